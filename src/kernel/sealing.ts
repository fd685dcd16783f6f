import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from "node:crypto";

/** How a sealed value starts; a stored value without it is plain text written before values were sealed. */
export const SEALED_PREFIX = "enc:v1:";

const IV_BYTES = 12;
const TAG_BYTES = 16;

/** A stored value that does not open: sealed under another key, or changed. */
export class SealedValueError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SealedValueError";
  }
}

export function isSealed(stored: string): boolean {
  return stored.startsWith(SEALED_PREFIX);
}

/**
 * Keeps a secret the gateway must use again (an upstream api_key, a webhook's
 * signing secret), so it cannot be hashed, unreadable at rest: AES-256-GCM
 * under a key derived from the gateway's secret for one purpose, so that a
 * value sealed for one use does not open as another. Each seal has a random IV.
 */
export class Sealer {
  private readonly key: Buffer;

  constructor(
    secret: string,
    /** What is sealed, e.g. "server api_key": part of the derived key and of error messages. */
    private readonly purpose: string,
  ) {
    this.key = Buffer.from(hkdfSync("sha256", secret, Buffer.alloc(0), `flotilla sealed ${purpose}`, 32));
  }

  /** `enc:v1:<base64url(iv | tag | ciphertext)>` */
  seal(plain: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv("aes-256-gcm", this.key, iv);
    const ciphertext = Buffer.concat([cipher.update(plain, "utf8"), cipher.final()]);
    return SEALED_PREFIX + Buffer.concat([iv, cipher.getAuthTag(), ciphertext]).toString("base64url");
  }

  /** The plain text of a stored value; one stored before sealing (no prefix) is returned as it is. */
  open(stored: string): string {
    if (!isSealed(stored)) return stored;
    const raw = Buffer.from(stored.slice(SEALED_PREFIX.length), "base64url");
    try {
      const decipher = createDecipheriv("aes-256-gcm", this.key, raw.subarray(0, IV_BYTES), { authTagLength: TAG_BYTES });
      decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
      return Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString("utf8");
    } catch {
      throw new SealedValueError(`the stored ${this.purpose} cannot be opened: it was sealed under another secret_key, or changed`);
    }
  }
}

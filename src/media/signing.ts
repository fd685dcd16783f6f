import { createHmac, hkdfSync, timingSafeEqual } from "node:crypto";

export type SignedMethod = "GET" | "PUT";

/**
 * Signs the gateway's own media URLs (the disk store's downloads and
 * presigned uploads): HMAC-SHA256 of the method, media id and expiry, under a
 * key derived from the gateway's sealing secret for this use alone, so every
 * replica signs and checks alike and no constant key exists.
 */
export class UrlSigner {
  private readonly key: Buffer;

  constructor(secret: string) {
    this.key = Buffer.from(hkdfSync("sha256", secret, Buffer.alloc(0), "flotilla media url", 32));
  }

  /** `expires=<unix seconds>&signature=<hex>` */
  query(method: SignedMethod, id: string, expires: number): string {
    return `expires=${expires}&signature=${this.signature(method, id, expires)}`;
  }

  /** Why a signed URL is refused, or undefined when it is good now. */
  problem(method: SignedMethod, id: string, expires: number, signature: string, nowMs = Date.now()): string | undefined {
    const expected = Buffer.from(this.signature(method, id, expires), "hex");
    const given = Buffer.from(signature, "hex");
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return "the URL's signature does not match";
    if (expires * 1000 <= nowMs) return "the URL has expired";
    return undefined;
  }

  private signature(method: SignedMethod, id: string, expires: number): string {
    return createHmac("sha256", this.key).update(`${method}\n${id}\n${expires}`).digest("hex");
  }
}

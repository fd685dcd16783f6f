import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { WithHeaders } from "./principal.js";

export function hashKey(key: string): string {
  return createHash("sha256").update(key).digest("hex");
}

/** Every key Flotilla makes starts so; only such keys are worth a database read when not held in memory. */
export const KEY_PREFIX = "flt_";

export function generateKey(): string {
  return `${KEY_PREFIX}${randomBytes(24).toString("base64url")}`;
}

/** `Authorization: Bearer K`, or seed 004's `X-Ollama-Api-Key: K`. */
export function presentedKey(req: WithHeaders): string | undefined {
  const header = req.headers.authorization;
  if (header && header.length > 7 && header.slice(0, 7).toLowerCase() === "bearer ") return header.slice(7).trim();
  const alt = req.headers["x-ollama-api-key"];
  return typeof alt === "string" && alt ? alt : undefined;
}

/** A secret kept to be compared with what is presented (a client key, a relay's token), in time that does not depend on how much of a guess is right. */
export class SecretMatch {
  private readonly digest: Buffer;

  constructor(secret: string) {
    this.digest = createHash("sha256").update(secret).digest();
  }

  matches(given: string): boolean {
    return timingSafeEqual(createHash("sha256").update(given).digest(), this.digest);
  }
}

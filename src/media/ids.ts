import { randomBytes } from "node:crypto";

/** Crockford's base32, lowercased, as Jan writes its ids. */
const ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz";

/** A media id as Jan's: `jan_` and a lowercased ULID (48 bits of milliseconds, then 80 random bits), 30 characters. */
export function newMediaId(now = Date.now()): string {
  let time = "";
  for (let t = now, i = 0; i < 10; i++, t = Math.floor(t / 32)) time = ALPHABET[t % 32] + time;
  let random = BigInt(`0x${randomBytes(10).toString("hex")}`);
  let tail = "";
  for (let i = 0; i < 16; i++, random >>= 5n) tail = ALPHABET[Number(random & 31n)] + tail;
  return `jan_${time}${tail}`;
}

export function isMediaId(value: string): boolean {
  return value.startsWith("jan_");
}

import { randomBytes, randomInt } from "node:crypto";

const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/** A new item id with Jan's prefix: 96 random bits. */
export function newId(prefix: "msg"): string {
  return `${prefix}_${randomBytes(12).toString("hex")}`;
}

let lastMs = 0;
let sequence = 0;

/**
 * An id that sorts after every other this process made in the same
 * millisecond (`now`, the row's created_at), so lists ordered by
 * (created_at, id) keep the order things were made in, as Jan's numeric ids do.
 */
export function orderedId(prefix: "conv" | "proj", now: number): string {
  sequence = now === lastMs ? sequence + 1 : 0;
  lastMs = now;
  return `${prefix}_${now.toString(16).padStart(12, "0")}${sequence.toString(16).padStart(6, "0")}${randomBytes(8).toString("hex")}`;
}

/** A share's public slug, as Jan makes them: 22 random base62 characters, about 131 bits. */
export function newSlug(): string {
  let slug = "";
  for (let i = 0; i < 22; i++) slug += BASE62[randomInt(62)];
  return slug;
}

/** A share's id: `shr_` and its slug, so either one opens the share. */
export const shareIdOf = (slug: string) => `shr_${slug}`;
export const slugOf = (shareIdOrSlug: string) => shareIdOrSlug.replace(/^shr_/, "");


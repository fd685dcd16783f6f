import { randomBytes, randomInt } from "node:crypto";

const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/** A new id with Jan's prefixes (`conv_`, `msg_`, `proj_`): 96 random bits. */
export function newId(prefix: "conv" | "msg" | "proj"): string {
  return `${prefix}_${randomBytes(12).toString("hex")}`;
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

export const seconds = (ms: number) => Math.floor(ms / 1000);

import { FlotillaError } from "../kernel/index.js";

/** Jan's placeholder for a media in a payload: `data:<image type>;jan_<id>`. */
const PLACEHOLDER = /data:image\/[a-z0-9.+-]+;(jan_[A-Za-z0-9]+)/g;
/** Distinct media one payload may name. */
const MAX_IDS = 100;

/** `payload` with each placeholder replaced by the URL `urlOf` gives its media (all or nothing: an unknown id fails the whole). */
export async function resolvePayload(payload: unknown, urlOf: (id: string) => Promise<string>): Promise<unknown> {
  const text = JSON.stringify(payload);
  const ids = new Set([...text.matchAll(PLACEHOLDER)].map((m) => m[1]));
  if (ids.size === 0) return payload;
  if (ids.size > MAX_IDS) throw new FlotillaError("invalid_request", `the payload names ${ids.size} media; at most ${MAX_IDS} at once`, { param: "payload" });
  const urls = new Map<string, string>();
  for (const id of ids) urls.set(id, await urlOf(id));
  // A URL is put in as JSON string content, so its characters cannot end the string it lands in.
  return JSON.parse(text.replace(PLACEHOLDER, (_, id: string) => JSON.stringify(urls.get(id)).slice(1, -1)));
}

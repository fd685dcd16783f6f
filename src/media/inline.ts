import { FlotillaError } from "../kernel/index.js";
import { checkImage } from "./content.js";
import { isMediaId } from "./ids.js";
import type { MediaService } from "./service.js";

/** Images fetched or read for one chat request: each is up to media.max_bytes. */
const MAX_IMAGES = 16;

type Part = { type?: unknown; image_url?: unknown };

/**
 * Turns the image parts of a chat request the upstream model cannot read
 * into base64 data URLs: a `jan_*` id the caller owns, and an http(s) link
 * (fetched through the outbound guard). True when it changed the body, whose
 * `messages` is then a new array: the messages, parts and objects it held are
 * copied where they change, never changed (a stored conversation may hold
 * them). A request without such parts costs one walk over its messages.
 */
export async function inlineChatImages(media: MediaService, body: Record<string, unknown>, owner: string): Promise<boolean> {
  const messages = body.messages;
  if (!Array.isArray(messages)) return false;
  let copy: unknown[] | undefined;
  let inlined = 0;
  for (let i = 0; i < messages.length; i++) {
    const message = messages[i] as { content?: unknown } | null;
    const content = message?.content;
    if (!Array.isArray(content)) continue;
    let parts: unknown[] | undefined;
    for (let j = 0; j < content.length; j++) {
      const part = content[j] as Part | null;
      if (part?.type !== "image_url") continue;
      const url = urlOf(part.image_url);
      if (url === undefined || !needsInlining(url)) continue;
      if (++inlined > MAX_IMAGES) throw new FlotillaError("invalid_request", `at most ${MAX_IMAGES} images given by jan_* id or link in one request`, { param: "messages" });
      const dataUrl = await dataUrlOf(media, url, owner, `messages[${i}].content[${j}].image_url`);
      parts ??= [...content];
      parts[j] = { ...part, image_url: typeof part.image_url === "object" ? { ...(part.image_url as object), url: dataUrl } : { url: dataUrl } };
    }
    if (parts) (copy ??= [...messages])[i] = { ...message, content: parts };
  }
  if (copy) body.messages = copy;
  return copy !== undefined;
}

/** Whether a chat request has an image part to inline; a walk over its messages, with no promise made. */
export function hasImagesToInline(body: Record<string, unknown>): boolean {
  const messages = body.messages;
  if (!Array.isArray(messages)) return false;
  for (const message of messages) {
    const content = (message as { content?: unknown } | null)?.content;
    if (!Array.isArray(content)) continue;
    for (const part of content as Array<Part | null>) {
      if (part?.type !== "image_url") continue;
      const url = urlOf(part.image_url);
      if (url !== undefined && needsInlining(url)) return true;
    }
  }
  return false;
}

const needsInlining = (url: string) => isMediaId(url) || url.startsWith("http://") || url.startsWith("https://");

function urlOf(imageUrl: unknown): string | undefined {
  const url = typeof imageUrl === "object" && imageUrl !== null ? (imageUrl as { url?: unknown }).url : imageUrl;
  return typeof url === "string" ? url : undefined;
}

async function dataUrlOf(media: MediaService, url: string, owner: string, param: string): Promise<string> {
  if (isMediaId(url)) {
    const row = await media.mine(url, owner, param);
    return `data:${row.mime};base64,${Buffer.from(await media.bytesOf(row)).toString("base64")}`;
  }
  const bytes = await media.fetchLink(url, param);
  return `data:${checkImage(bytes, media.options.maxBytes, param)};base64,${Buffer.from(bytes).toString("base64")}`;
}

import { TranslationError } from "./errors.js";

/** Base64 prefixes of each format's magic bytes (PNG \x89PNG, JPEG \xFF\xD8\xFF, GIF8, RIFF…WEBP). */
const MAGIC: ReadonlyArray<readonly [prefix: string, mime: string]> = [
  ["iVBORw0KGgo", "image/png"],
  ["/9j/", "image/jpeg"],
  ["R0lGOD", "image/gif"],
  ["UklGR", "image/webp"],
];

const DEFAULT_MIME = "image/png";

export function imageMime(base64: string): string {
  return MAGIC.find(([prefix]) => base64.startsWith(prefix))?.[1] ?? DEFAULT_MIME;
}

/** An Ollama image (bare base64) → an OpenAI data URL. */
export function toDataUrl(base64: string): string {
  return `data:${imageMime(base64)};base64,${base64}`;
}

/** An OpenAI image URL → bare base64 for Ollama; links cannot be carried (Ollama takes inline bytes only). */
export function fromDataUrl(url: string, param: string): string {
  const comma = url.indexOf(",");
  if (!url.startsWith("data:") || comma === -1 || !url.slice(0, comma).endsWith(";base64")) {
    throw new TranslationError("an Ollama server takes images inline as base64 data: URLs, not links", param);
  }
  return url.slice(comma + 1);
}

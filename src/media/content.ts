import { FlotillaError, OutboundError, type OutboundGuard } from "../kernel/index.js";
import { IMAGE_TYPES, sniffImage } from "./sniff.js";

export type Fetcher = Pick<OutboundGuard, "urlProblem" | "fetch">;

const ALLOWED = Object.values(IMAGE_TYPES).join(", ");
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
/** Redirects an image link may take, each hop checked as the first. */
const MAX_REDIRECTS = 3;

/** The bytes' image type, once they are known to be a non-empty image of at most `maxBytes`: else a 413 or a 400. */
export function checkImage(bytes: Uint8Array, maxBytes: number, param: string): string {
  if (bytes.length === 0) throw new FlotillaError("invalid_request", "the file is empty", { param });
  if (bytes.length > maxBytes) throw tooLarge(maxBytes, param);
  const mime = sniffImage(bytes);
  if (!mime) throw new FlotillaError("invalid_request", `unsupported media type: the content is not an image of a type taken here (${ALLOWED})`, { param });
  return mime;
}

export function tooLarge(maxBytes: number, param?: string): FlotillaError {
  return new FlotillaError("payload_too_large", `the file is larger than ${maxBytes} bytes (media.max_bytes)`, { param });
}

/** The bytes of a base64 data URL; its declared type is not trusted (the bytes are checked after). */
export function decodeDataUrl(url: string, maxBytes: number, param: string): Uint8Array {
  const comma = url.indexOf(",");
  if (!url.startsWith("data:") || comma === -1) throw new FlotillaError("invalid_request", "not a data URL (data:<type>;base64,<data>)", { param });
  if (!url.slice(0, comma).endsWith(";base64")) throw new FlotillaError("invalid_request", "the data URL must be base64 encoded", { param });
  const data = url.slice(comma + 1);
  if (Math.floor((data.length * 3) / 4) - 2 > maxBytes) throw tooLarge(maxBytes, param);
  if (!BASE64.test(data)) throw new FlotillaError("invalid_request", "the data URL's data is not valid base64", { param });
  return Buffer.from(data, "base64");
}

/** The bytes at a link a caller gave, fetched through the outbound guard: loopback and private addresses only as the operator allows. */
export async function fetchLink(fetcher: Fetcher, url: string, limits: { maxBytes: number; timeoutMs: number }, param: string): Promise<Uint8Array> {
  const problem = await fetcher.urlProblem(url);
  if (problem) throw new FlotillaError("invalid_request", `the URL is refused: ${problem}`, { param });
  let answer;
  try {
    answer = await fetcher.fetch(url, { headers: { accept: "image/*" } }, { timeoutMs: limits.timeoutMs, maxBytes: limits.maxBytes, maxRedirects: MAX_REDIRECTS });
  } catch (err) {
    if (err instanceof OutboundError && err.message.includes("larger than")) throw tooLarge(limits.maxBytes, param);
    throw new FlotillaError("invalid_request", `the URL could not be fetched: ${(err as Error).message}`, { param, cause: err });
  }
  if (answer.status >= 300) throw new FlotillaError("invalid_request", `the URL answered ${answer.status}`, { param });
  return answer.body;
}

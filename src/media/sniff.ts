/** The image types Jan's media API takes, each with its file extension. */
export const IMAGE_TYPES: Readonly<Record<string, string>> = {
  "image/png": "png",
  "image/jpeg": "jpg",
  "image/gif": "gif",
  "image/webp": "webp",
  "image/bmp": "bmp",
  "image/tiff": "tiff",
};

const startsWith = (bytes: Uint8Array, at: number, expected: readonly number[]) => expected.every((b, i) => bytes[at + i] === b);
const ascii = (text: string) => [...text].map((c) => c.charCodeAt(0));

/** A BMP's DIB header sizes (core, info, v2–v5): "BM" alone would take any text starting with it. */
const BMP_HEADER_SIZES = new Set([12, 40, 52, 56, 64, 108, 124]);

const SIGNATURES: ReadonlyArray<readonly [mime: string, matches: (b: Uint8Array) => boolean]> = [
  ["image/png", (b) => startsWith(b, 0, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])],
  ["image/jpeg", (b) => startsWith(b, 0, [0xff, 0xd8, 0xff])],
  ["image/gif", (b) => startsWith(b, 0, ascii("GIF87a")) || startsWith(b, 0, ascii("GIF89a"))],
  ["image/webp", (b) => startsWith(b, 0, ascii("RIFF")) && startsWith(b, 8, ascii("WEBP"))],
  ["image/bmp", (b) => startsWith(b, 0, ascii("BM")) && b.length >= 18 && BMP_HEADER_SIZES.has(b[14]) && b[15] === 0 && b[16] === 0 && b[17] === 0],
  ["image/tiff", (b) => startsWith(b, 0, [0x49, 0x49, 0x2a, 0x00]) || startsWith(b, 0, [0x4d, 0x4d, 0x00, 0x2a])],
];

/** The image type the bytes are, by their magic numbers (never by a name or a declared type), or undefined. */
export function sniffImage(bytes: Uint8Array): string | undefined {
  return SIGNATURES.find(([, matches]) => matches(bytes))?.[0];
}

/** Dimensions of every simulated embedding. */
export const EMBEDDING_LENGTH = 8;

/**
 * A deterministic unit vector derived from the text: equal texts give equal
 * vectors, different texts different ones. Values are float32, as real servers
 * send them, so the float and base64 encodings carry the same numbers.
 */
export function embeddingOf(text: string, dimensions = EMBEDDING_LENGTH): number[] {
  let seed = fnv1a(text);
  const values: number[] = [];
  for (let i = 0; i < Math.min(Math.max(1, dimensions), EMBEDDING_LENGTH); i++) {
    seed = (Math.imul(seed ^ (seed >>> 15), 2246822519) + 0x9e3779b9) >>> 0;
    values.push(seed / 0xffffffff - 0.5);
  }
  const norm = Math.sqrt(values.reduce((sum, v) => sum + v * v, 0)) || 1;
  return values.map((v) => Math.fround(v / norm));
}

/** OpenAI's `encoding_format: "base64"`: the little-endian float32 bytes, base64-encoded. */
export function toBase64(vector: number[]): string {
  const bytes = Buffer.alloc(vector.length * 4);
  vector.forEach((v, i) => bytes.writeFloatLE(v, i * 4));
  return bytes.toString("base64");
}

function fnv1a(text: string): number {
  let hash = 2166136261;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 16777619) >>> 0;
  return hash;
}

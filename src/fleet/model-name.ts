/**
 * Ollama treats `llama3` and `llama3:latest` as one model; OpenAI-kind servers
 * use bare ids. Both sides are compared by this key, and the request is
 * rewritten to the server's own spelling when they differ.
 */
export function modelKey(name: string): string {
  const lower = name.trim().toLowerCase();
  const slash = lower.lastIndexOf("/");
  return lower.indexOf(":", slash + 1) === -1 ? `${lower}:latest` : lower;
}

const QUANTIZATION = /[-_.]?(q\d[\w]*|iq\d[\w]*|fp16|f16|bf16|fp32|f32|fp8|int8|int4|awq|gptq)$/i;

/**
 * The model without its quantization: `llama3:8b-instruct-q4_K_M` → `llama3:8b-instruct`.
 * Used by the optional quantization fallback.
 */
export function baseModelKey(name: string): string {
  const key = modelKey(name);
  const colon = key.lastIndexOf(":");
  const tag = key.slice(colon + 1).replace(QUANTIZATION, "");
  return `${key.slice(0, colon)}:${tag || "latest"}`;
}

import { sendJson, type Exchange, type Json } from "./wire.js";

export const NDJSON = "application/x-ndjson";

/** One NDJSON line. */
export function line(value: unknown): string {
  return `${JSON.stringify(value)}\n`;
}

/** Ollama's error body: `{"error": "..."}`. */
export function ollamaError(x: Exchange, status: number, error: string): void {
  sendJson(x, status, { error });
}

/** What Ollama answers for inference on a model it does not have (Go's %q quoting). */
export function notPulled(x: Exchange, name: string): void {
  ollamaError(x, 404, `model ${JSON.stringify(name)} not found, try pulling it first`);
}

/** The model a request names: `model`, or the deprecated `name`. */
export function requestedModel(body: Json): string {
  for (const value of [body.model, body.name]) if (typeof value === "string" && value !== "") return value;
  return "";
}

/** Ollama's `keep_alive: 0` (a number or a duration such as "0s") asks to unload. */
export function isZeroDuration(value: unknown): boolean {
  return value === 0 || (typeof value === "string" && /^0+(\.0+)?[a-z]*$/i.test(value));
}

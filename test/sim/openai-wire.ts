import type { ModelEntry } from "./catalog.js";
import type { SimState } from "./state.js";
import { sendJson, type Exchange } from "./wire.js";

export const SSE = "text/event-stream; charset=utf-8";

/** OpenAI's error body: `{"error": {message, type, param, code}}`. */
export function openaiError(x: Exchange, status: number, message: string, type = "invalid_request_error", param: string | null = null, code: string | null = null): void {
  sendJson(x, status, { error: { message, type, param, code } });
}

/**
 * A model this server does not serve. An OpenAI-compatible server answers as
 * OpenAI does; Ollama's /v1 surface wraps its own message with the error type
 * it gives a 404.
 */
export function modelNotFound(x: Exchange, sim: SimState, name: string): void {
  if (sim.kind === "ollama") return openaiError(x, 404, `model ${JSON.stringify(name)} not found, try pulling it first`, "not_found_error");
  openaiError(x, 404, `The model \`${name}\` does not exist.`, "invalid_request_error", "model", "model_not_found");
}

/** Finds the requested model, answering 400 or 404 when it cannot. */
export function servedModel(x: Exchange, sim: SimState): ModelEntry | undefined {
  const requested = x.body.model;
  if (typeof requested !== "string" || requested === "") return void openaiError(x, 400, "you must provide a model parameter");
  const model = sim.catalog.find(requested);
  if (!model) return void modelNotFound(x, sim, requested);
  return model;
}

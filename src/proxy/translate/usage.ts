import { DONE, parseLine, sseData } from "./lines.js";
import { isObject } from "./params.js";
import type { Api, ClientPath, Usage } from "./types.js";

/**
 * Token counts from an answer that passed through untranslated. `text` is the
 * whole body, or a stream's tail: only the last lines are read. Never throws.
 */
export function usageFromPassthrough(api: Api, _path: ClientPath, text: string, streamed: boolean): Usage | undefined {
  if (!streamed) return fromObject(api, parseLine(text.trim()));
  const lines = text.split("\n");
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i].trim();
    if (!line) continue;
    const payload = api === "openai" ? sseData(line) : parseLine(line);
    if (payload === DONE) continue;
    const usage = fromObject(api, payload);
    if (usage) return usage;
  }
  return undefined;
}

function fromObject(api: Api, body: unknown): Usage | undefined {
  if (!isObject(body)) return undefined;
  if (api === "openai") {
    const u = body.usage;
    if (!isObject(u)) return undefined;
    return { prompt_tokens: Number(u.prompt_tokens ?? 0), completion_tokens: Number(u.completion_tokens ?? 0) };
  }
  if (typeof body.prompt_eval_count !== "number" && typeof body.eval_count !== "number") return undefined;
  return { prompt_tokens: Number(body.prompt_eval_count ?? 0), completion_tokens: Number(body.eval_count ?? 0) };
}

const MAX_MESSAGE = 500;

/** The message of an upstream error, whichever API's shape it came in. */
export function upstreamErrorMessage(text: string): string {
  const body = parseLine(text.trim());
  let message = text.trim();
  if (isObject(body)) {
    const error = body.error;
    if (typeof error === "string") message = error;
    else if (isObject(error) && typeof error.message === "string") message = error.message;
    else if (typeof body.message === "string") message = body.message;
    else if (typeof body.detail === "string") message = body.detail;
  }
  return (message || "no details").slice(0, MAX_MESSAGE);
}

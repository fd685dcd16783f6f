import type { Api, ClientPath, Usage } from "./types.js";
import { errorMessageOf, isObject, numberAt, objectAt, parseJson } from "./values.js";

/** Where each API reports token counts. */
const COUNT_KEYS: Readonly<Record<Api, readonly [prompt: string, completion: string]>> = {
  ollama: ["prompt_eval_count", "eval_count"],
  openai: ["prompt_tokens", "completion_tokens"],
};

/**
 * Token counts from an answer that passed through untranslated. A whole body
 * is searched from its end for the count fields, never parsed (it may be
 * megabytes of embeddings); a stream's tail is read line by line from the
 * end: Ollama's `done: true` line, or the last SSE event with `usage`.
 * Never throws.
 */
export function usageFromPassthrough(api: Api, _path: ClientPath, text: string, streamed: boolean): Usage | undefined {
  try {
    return streamed ? fromStreamTail(api, text) : fromBody(api, text);
  } catch {
    return undefined;
  }
}

function fromBody(api: Api, text: string): Usage | undefined {
  const [promptKey, completionKey] = COUNT_KEYS[api];
  const prompt = lastNumber(text, promptKey);
  const completion = lastNumber(text, completionKey);
  if (prompt === undefined && completion === undefined) return undefined;
  return { prompt_tokens: prompt ?? 0, completion_tokens: completion ?? 0 };
}

/** The number after the last `"key":` in `text`. JSON strings escape their quotes, so text inside them never matches. */
function lastNumber(text: string, key: string): number | undefined {
  const at = text.lastIndexOf(`"${key}"`);
  if (at === -1) return undefined;
  const match = /^\s*:\s*(\d+)/.exec(text.slice(at + key.length + 2, at + key.length + 40));
  return match ? Number(match[1]) : undefined;
}

function fromStreamTail(api: Api, text: string): Usage | undefined {
  const lines = text.split("\n");
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i].trim();
    if (api === "ollama" && line.includes('"done"')) {
      const payload = objectAt(parseJson(line));
      if (payload.done === true) return countsOf(api, payload);
    }
    if (api === "openai" && line.startsWith("data:") && line.includes('"usage"')) {
      const payload = objectAt(parseJson(line.slice(5)));
      if (isObject(payload.usage)) return countsOf(api, payload.usage);
    }
  }
  return undefined;
}

function countsOf(api: Api, source: Record<string, unknown>): Usage {
  const [promptKey, completionKey] = COUNT_KEYS[api];
  return { prompt_tokens: numberAt(source[promptKey]), completion_tokens: numberAt(source[completionKey]) };
}

const MAX_MESSAGE = 500;

/**
 * The message of an upstream error body: Ollama's `{error: "msg"}`, OpenAI's
 * `{error: {message}}`, vLLM's `{object: "error", message}`, FastAPI's
 * `{detail}`, or plain text. Never throws; at most 500 characters.
 */
export function upstreamErrorMessage(text: string): string {
  const trimmed = String(text ?? "").trim();
  const body = trimmed.startsWith("{") ? parseJson(trimmed) : undefined;
  const message = errorMessageOf(body) ?? detailOf(body) ?? trimmed;
  return (message.trim() || "no details").slice(0, MAX_MESSAGE);
}

function detailOf(body: unknown): string | undefined {
  if (!isObject(body)) return undefined;
  if (typeof body.message === "string") return body.message;
  if (typeof body.detail === "string") return body.detail;
  if (Array.isArray(body.detail)) return body.detail.map((d) => String(objectAt(d).msg ?? JSON.stringify(d))).join("; ");
  return undefined;
}

import type { Json } from "./types.js";
import { isObject } from "./values.js";

/**
 * Ollama `options` ↔ OpenAI request parameters: one table, read both ways.
 * `also` lists other OpenAI names read for the same option; `toOllama` /
 * `toOpenAI` reshape a value (undefined drops it). Options with no OpenAI
 * counterpart (num_ctx, mirostat, …) are not sent to an OpenAI-kind server.
 */
interface Param {
  ollama: string;
  openai: string;
  also?: readonly string[];
  toOllama?: (value: unknown) => unknown;
  toOpenAI?: (value: unknown) => unknown;
}

const stopList = (value: unknown): unknown => (typeof value === "string" ? [value] : value);
/** Ollama's num_predict -1 (unbounded) and -2 (fill context) have no OpenAI form. */
const positive = (value: unknown): unknown => (typeof value === "number" && value > 0 ? value : undefined);

export const PARAMS: readonly Param[] = [
  { ollama: "temperature", openai: "temperature" },
  { ollama: "top_p", openai: "top_p" },
  { ollama: "top_k", openai: "top_k" },
  { ollama: "min_p", openai: "min_p" },
  { ollama: "seed", openai: "seed" },
  { ollama: "stop", openai: "stop", toOllama: stopList },
  { ollama: "num_predict", openai: "max_tokens", also: ["max_completion_tokens"], toOpenAI: positive },
  { ollama: "frequency_penalty", openai: "frequency_penalty" },
  { ollama: "presence_penalty", openai: "presence_penalty" },
  { ollama: "repeat_penalty", openai: "repetition_penalty" },
];

/** Ollama `options` → OpenAI top-level parameters. */
export function optionsToParams(options: unknown): Json {
  const out: Json = {};
  if (!isObject(options)) return out;
  for (const p of PARAMS) {
    const value = p.toOpenAI ? p.toOpenAI(options[p.ollama]) : options[p.ollama];
    if (value !== undefined && value !== null) out[p.openai] = value;
  }
  return out;
}

/** OpenAI top-level parameters → Ollama `options`. */
export function paramsToOptions(body: Json): Json {
  const out: Json = {};
  for (const p of PARAMS) {
    const name = [p.openai, ...(p.also ?? [])].find((n) => body[n] !== undefined && body[n] !== null);
    if (name === undefined) continue;
    const value = p.toOllama ? p.toOllama(body[name]) : body[name];
    if (value !== undefined) out[p.ollama] = value;
  }
  return out;
}

const RESPONSE_SCHEMA_NAME = "response";

/** Ollama `format` ("json" or a JSON schema) → OpenAI `response_format`. */
export function formatToResponseFormat(format: unknown): Json | undefined {
  if (format === "json") return { type: "json_object" };
  if (isObject(format)) return { type: "json_schema", json_schema: { name: RESPONSE_SCHEMA_NAME, schema: format } };
  return undefined;
}

/** OpenAI `response_format` → Ollama `format`; `{type:"text"}` is Ollama's default (no format). */
export function responseFormatToFormat(responseFormat: unknown): unknown {
  if (!isObject(responseFormat)) return undefined;
  if (responseFormat.type === "json_object") return "json";
  if (responseFormat.type === "json_schema" && isObject(responseFormat.json_schema)) return responseFormat.json_schema.schema;
  return undefined;
}

/** OpenAI `reasoning_effort` → Ollama `think` (Ollama takes true/false or "low" | "medium" | "high"). */
const EFFORT_TO_THINK: Readonly<Record<string, boolean | string>> = {
  none: false,
  minimal: "low",
  low: "low",
  medium: "medium",
  high: "high",
};

/** Ollama `think` → OpenAI `reasoning_effort`: only the named levels have one. */
export function thinkToEffort(think: unknown): string | undefined {
  return typeof think === "string" ? think : undefined;
}

export function effortToThink(body: Json): unknown {
  if (body.think !== undefined) return body.think;
  const effort = body.reasoning_effort ?? (isObject(body.reasoning) ? body.reasoning.effort : undefined);
  return typeof effort === "string" ? EFFORT_TO_THINK[effort] : undefined;
}

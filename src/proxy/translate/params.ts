/**
 * Ollama `options` ↔ OpenAI request parameters: one table, read both ways.
 * Options with no OpenAI counterpart (num_ctx, mirostat, …) are not sent to
 * an OpenAI-kind server.
 */
const PARAMS: ReadonlyArray<readonly [ollama: string, openai: string]> = [
  ["temperature", "temperature"],
  ["top_p", "top_p"],
  ["top_k", "top_k"],
  ["min_p", "min_p"],
  ["seed", "seed"],
  ["stop", "stop"],
  ["num_predict", "max_tokens"],
  ["frequency_penalty", "frequency_penalty"],
  ["presence_penalty", "presence_penalty"],
  ["repeat_penalty", "repetition_penalty"],
];

type Json = Record<string, unknown>;

export function optionsToParams(options: unknown): Json {
  const out: Json = {};
  if (!isObject(options)) return out;
  for (const [ollama, openai] of PARAMS) if (options[ollama] !== undefined) out[openai] = options[ollama];
  return out;
}

export function paramsToOptions(body: Json): Json {
  const out: Json = {};
  for (const [ollama, openai] of PARAMS) if (body[openai] !== undefined) out[ollama] = body[openai];
  if (body.max_completion_tokens !== undefined) out.num_predict = body.max_completion_tokens;
  if (typeof out.stop === "string") out.stop = [out.stop];
  return out;
}

/** Ollama `format` ("json" or a JSON schema) → OpenAI `response_format`. */
export function formatToResponseFormat(format: unknown): Json | undefined {
  if (format === "json") return { type: "json_object" };
  if (isObject(format)) return { type: "json_schema", json_schema: { name: "response", schema: format } };
  return undefined;
}

export function responseFormatToFormat(responseFormat: unknown): unknown {
  if (!isObject(responseFormat)) return undefined;
  if (responseFormat.type === "json_object") return "json";
  if (responseFormat.type === "json_schema" && isObject(responseFormat.json_schema)) return responseFormat.json_schema.schema;
  return undefined;
}

export function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Copies the defined entries only, so absent fields stay absent on the wire. */
export function defined(fields: Json): Json {
  const out: Json = {};
  for (const [k, v] of Object.entries(fields)) if (v !== undefined) out[k] = v;
  return out;
}

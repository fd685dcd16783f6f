import { TranslationError } from "./errors.js";
import { effortToThink, formatToResponseFormat, optionsToParams, paramsToOptions, responseFormatToFormat, thinkToEffort } from "./params.js";
import type { Json } from "./types.js";
import { defined, isObject } from "./values.js";

/** Request fields every Ollama endpoint shares, as an OpenAI server takes them. */
export function openAIRequestParams(body: Json, stream: boolean): Json {
  return defined({
    stream,
    // Without it an OpenAI server sends no token counts in a stream.
    stream_options: stream ? { include_usage: true } : undefined,
    ...optionsToParams(body.options),
    response_format: formatToResponseFormat(body.format),
    reasoning_effort: thinkToEffort(body.think),
    think: body.think,
  });
}

/** Request fields every OpenAI endpoint shares, as an Ollama server takes them. */
export function ollamaRequestParams(body: Json): Json {
  const options = { ...(isObject(body.options) ? body.options : {}), ...paramsToOptions(body) };
  return defined({
    format: responseFormatToFormat(body.response_format),
    options: Object.keys(options).length > 0 ? options : undefined,
    think: effortToThink(body),
    keep_alive: body.keep_alive,
  });
}

export function includeUsage(body: Json): boolean {
  return isObject(body.stream_options) && body.stream_options.include_usage === true;
}

/** OpenAI fields that ask for more than an Ollama server gives: several choices, or the prompt echoed. */
export function rejectUncarried(body: Json): void {
  if (typeof body.n === "number" && body.n > 1) throw new TranslationError("an Ollama server answers one choice per request (n must be 1)", "n");
  if (typeof body.best_of === "number" && body.best_of > 1) throw new TranslationError("an Ollama server does not support best_of", "best_of");
  if (body.echo === true) throw new TranslationError("an Ollama server does not echo the prompt", "echo");
}

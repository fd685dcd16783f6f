import { responseTranslator } from "./engine.js";
import { TranslationError } from "./errors.js";
import { toOpenAIMessages } from "./messages.js";
import { ollamaWriter } from "./ollama-writer.js";
import { openAIWriter } from "./openai-writer.js";
import { ollamaReader, openAIReader } from "./readers.js";
import { includeUsage, ollamaRequestParams, openAIRequestParams, rejectUncarried } from "./request-params.js";
import type { Json, TranslateContext, Translation } from "./types.js";
import { defined, stringAt } from "./values.js";

/**
 * Ollama `/api/generate` → an OpenAI server. A templated prompt becomes a chat
 * (`system` + the user's `prompt` and images); a `raw` prompt, or one with a
 * `suffix` (fill-in-the-middle), is a plain `/v1/completions` continuation.
 */
export function ollamaGenerateToOpenAI(body: Json, ctx: TranslateContext): Translation {
  const stream = body.stream !== false;
  const model = stringAt(body.model);
  const prompt = stringAt(body.prompt);
  const suffix = stringAt(body.suffix) || undefined;
  if (body.raw === true || suffix !== undefined) {
    if (Array.isArray(body.images) && body.images.length > 0) {
      throw new TranslationError("an OpenAI server takes images only in chat, not with raw or suffix", "images");
    }
    return {
      path: "/v1/completions",
      stream,
      body: defined({ model, prompt, suffix, ...openAIRequestParams(body, stream) }),
      response: responseTranslator(openAIReader("text"), ollamaWriter(ctx.answerModel ?? model, "text", ctx), ctx),
    };
  }
  const system = stringAt(body.system);
  const messages = [...(system ? [{ role: "system", content: system }] : []), { role: "user", content: prompt, images: body.images }];
  return {
    path: "/v1/chat/completions",
    stream,
    body: defined({ model, messages: toOpenAIMessages(messages), ...openAIRequestParams(body, stream) }),
    response: responseTranslator(openAIReader("chat"), ollamaWriter(ctx.answerModel ?? model, "text", ctx), ctx),
  };
}

/**
 * OpenAI `/v1/completions` → an Ollama server's `/api/generate`. Completions
 * continue text as is, so `raw: true`; with a `suffix` Ollama needs its
 * fill-in-the-middle template (raw mode ignores the suffix), so raw is left off.
 */
export function openAICompletionToOllama(body: Json, ctx: TranslateContext): Translation {
  rejectUncarried(body);
  const stream = body.stream === true;
  const model = stringAt(body.model);
  const suffix = stringAt(body.suffix) || undefined;
  return {
    path: "/api/generate",
    stream,
    body: defined({ model, prompt: onePrompt(body.prompt), suffix, raw: suffix ? undefined : true, stream, ...ollamaRequestParams(body) }),
    response: responseTranslator(ollamaReader("text"), openAIWriter(ctx.answerModel ?? model, "text", ctx, includeUsage(body)), ctx),
  };
}

/** OpenAI takes a batch of prompts or token ids; Ollama takes one string. */
function onePrompt(prompt: unknown): string {
  if (typeof prompt === "string") return prompt;
  if (prompt === undefined || prompt === null) return "";
  if (Array.isArray(prompt) && prompt.length === 1 && typeof prompt[0] === "string") return prompt[0];
  throw new TranslationError("an Ollama server takes one prompt string per request (no batches or token ids)", "prompt");
}

import { responseTranslator } from "./engine.js";
import { toOllamaMessages, toOpenAIMessages } from "./messages.js";
import { ollamaWriter } from "./ollama-writer.js";
import { openAIWriter } from "./openai-writer.js";
import { ollamaReader, openAIReader } from "./readers.js";
import { includeUsage, ollamaRequestParams, openAIRequestParams, rejectUncarried } from "./request-params.js";
import type { Json, TranslateContext, Translation } from "./types.js";
import { defined, stringAt } from "./values.js";

/** Ollama `/api/chat` → an OpenAI server's `/v1/chat/completions`. Tools have the same shape on both sides. */
export function ollamaChatToOpenAI(body: Json, ctx: TranslateContext): Translation {
  const stream = body.stream !== false;
  const model = stringAt(body.model);
  return {
    path: "/v1/chat/completions",
    stream,
    body: defined({ model, messages: toOpenAIMessages(body.messages), tools: body.tools, ...openAIRequestParams(body, stream) }),
    response: responseTranslator(openAIReader("chat"), ollamaWriter(ctx.answerModel ?? model, "chat", ctx), ctx),
  };
}

/** OpenAI `/v1/chat/completions` → an Ollama server's `/api/chat`, with `stream` always explicit (Ollama defaults to true). */
export function openAIChatToOllama(body: Json, ctx: TranslateContext): Translation {
  rejectUncarried(body);
  const stream = body.stream === true;
  const model = stringAt(body.model);
  return {
    path: "/api/chat",
    stream,
    body: defined({
      model,
      messages: toOllamaMessages(body.messages),
      stream,
      // Ollama has no tool_choice; "none" is honoured by not offering the tools.
      tools: body.tool_choice === "none" ? undefined : body.tools,
      ...ollamaRequestParams(body),
    }),
    response: responseTranslator(ollamaReader("chat"), openAIWriter(ctx.answerModel ?? model, "chat", ctx, includeUsage(body)), ctx),
  };
}

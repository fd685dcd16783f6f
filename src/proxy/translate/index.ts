import { TranslationError } from "./errors.js";
import { chatToOllama, completionToOllama, embeddingsToOllama } from "./to-ollama.js";
import { chatToOpenAI, embedToOpenAI, generateToOpenAI } from "./to-openai.js";
import type { Api, ClientPath, Json, TranslateContext, Translation } from "./types.js";

export type { Api, ClientPath, Usage, TranslateContext, StreamTranslator, ResponseTranslator, Translation } from "./types.js";
export { TranslationError } from "./errors.js";
export { usageFromPassthrough, upstreamErrorMessage } from "./usage.js";

export function clientApi(path: ClientPath): Api {
  return path.startsWith("/v1/") ? "openai" : "ollama";
}

const EMBEDDINGS = new Set<ClientPath>(["/api/embed", "/api/embeddings", "/v1/embeddings"]);

/** Ollama streams unless told not to; OpenAI only when asked; embeddings never. */
export function wantsStream(path: ClientPath, body: Json): boolean {
  if (EMBEDDINGS.has(path)) return false;
  return clientApi(path) === "ollama" ? body.stream !== false : body.stream === true;
}

/** A client request for a server of the other API. */
export function translateRequest(path: ClientPath, body: Json, ctx: TranslateContext): Translation {
  switch (path) {
    case "/api/chat":
      return chatToOpenAI(body);
    case "/api/generate":
      return generateToOpenAI(body);
    case "/api/embed":
      return embedToOpenAI(body, false);
    case "/api/embeddings":
      return embedToOpenAI(body, true);
    case "/v1/chat/completions":
      return chatToOllama(body, ctx);
    case "/v1/completions":
      return completionToOllama(body, ctx);
    case "/v1/embeddings":
      return embeddingsToOllama(body);
    default:
      throw new TranslationError(`no translation for ${String(path)}`);
  }
}

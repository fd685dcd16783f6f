import { ollamaChatToOpenAI, openAIChatToOllama } from "./chat.js";
import { ollamaEmbedToOpenAI, openAIEmbeddingsToOllama } from "./embeddings.js";
import { ollamaGenerateToOpenAI, openAICompletionToOllama } from "./generate.js";
import { TranslationError } from "./errors.js";
import type { Api, ClientPath, TranslateContext, Translation } from "./types.js";

export type { Api, ClientPath, Usage, TranslateContext, StreamTranslator, ResponseTranslator, Translation } from "./types.js";
export { BrokenAnswerError, TranslationError } from "./errors.js";
export { frameOf } from "./framing.js";
export { usageFromPassthrough, upstreamErrorMessage } from "./usage.js";

/** "/api/*" is the Ollama API, "/v1/*" the OpenAI one. */
export function clientApi(path: ClientPath): Api {
  return path.startsWith("/v1/") ? "openai" : "ollama";
}

type Translate = (body: Record<string, unknown>, ctx: TranslateContext) => Translation;

/** Each client endpoint and how it reaches a server of the other API. */
const ROUTES: Readonly<Record<ClientPath, Translate>> = {
  "/api/chat": ollamaChatToOpenAI,
  "/api/generate": ollamaGenerateToOpenAI,
  "/api/embed": (body, ctx) => ollamaEmbedToOpenAI(body, false, ctx),
  "/api/embeddings": (body, ctx) => ollamaEmbedToOpenAI(body, true, ctx),
  "/v1/chat/completions": openAIChatToOllama,
  "/v1/completions": openAICompletionToOllama,
  "/v1/embeddings": openAIEmbeddingsToOllama,
};

/**
 * Translate a client request for a server of the OTHER api. Throws
 * TranslationError for input that cannot be carried (e.g. token-array
 * embeddings input to Ollama, n>1, http image URLs for an Ollama server).
 */
export function translateRequest(path: ClientPath, body: Record<string, unknown>, ctx: TranslateContext): Translation {
  const route = Object.hasOwn(ROUTES, path) ? ROUTES[path] : undefined;
  if (!route) throw new TranslationError(`no translation for ${String(path)}`);
  return route(body, ctx);
}

/**
 * The API a server must speak to take this request at all, when the other
 * one cannot carry it: OpenAI embeddings of token ids (Ollama embeds text,
 * and a gateway cannot detokenize for it).
 */
export function serverApiNeeded(path: ClientPath, body: Record<string, unknown>): Api | undefined {
  if (path !== "/v1/embeddings") return undefined;
  const input = body.input;
  return typeof input === "string" || (Array.isArray(input) && input.every((x) => typeof x === "string")) ? undefined : "openai";
}

const STREAMING: ReadonlySet<ClientPath> = new Set(["/api/chat", "/api/generate", "/v1/chat/completions", "/v1/completions"]);

/** Whether the client asked for a stream: Ollama streams chat/generate unless told not to, OpenAI only when asked, embeddings never. */
export function wantsStream(path: ClientPath, body: Record<string, unknown>): boolean {
  if (!STREAMING.has(path)) return false;
  return clientApi(path) === "ollama" ? body.stream !== false : body.stream === true;
}

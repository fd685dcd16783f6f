import { answerOllama, embed, legacyEmbed } from "./ollama-inference.js";
import { blob, copy, create, ps, pull, push, remove, show, tags } from "./ollama-models.js";
import { ollamaError } from "./ollama-wire.js";
import { routeOpenAI } from "./openai.js";
import type { SimState } from "./state.js";
import { sendBody, sendJson, TEXT_TYPE, type Exchange } from "./wire.js";

type Handler = (x: Exchange, sim: SimState) => void;

const running: Handler = (x) => sendBody(x, 200, TEXT_TYPE, "Ollama is running");
const version: Handler = (x, sim) => sendJson(x, 200, { version: sim.version });

/** Ollama's routes, by path and method. Handlers of POST and DELETE read a JSON body. */
const ROUTES = new Map<string, Record<string, Handler>>([
  ["/", { GET: running, HEAD: running }],
  ["/api/version", { GET: version, HEAD: version }],
  ["/api/tags", { GET: tags, HEAD: tags }],
  ["/api/ps", { GET: ps }],
  ["/api/show", { POST: show }],
  ["/api/chat", { POST: (x, sim) => answerOllama(x, sim, true) }],
  ["/api/generate", { POST: (x, sim) => answerOllama(x, sim, false) }],
  ["/api/embed", { POST: embed }],
  ["/api/embeddings", { POST: legacyEmbed }],
  ["/api/pull", { POST: pull }],
  ["/api/push", { POST: push }],
  ["/api/create", { POST: create }],
  ["/api/copy", { POST: copy }],
  ["/api/delete", { DELETE: remove }],
  ["/api/blobs/", { HEAD: blob, POST: blob }],
]);

/**
 * An Ollama server: its own API under /api, its OpenAI-compatible one under
 * /v1, and Gin's plain-text 404 and 405 for anything else.
 */
export function routeOllama(x: Exchange, sim: SimState): void {
  if (x.path.startsWith("/v1/")) return routeOpenAI(x, sim);
  const methods = ROUTES.get(x.path.startsWith("/api/blobs/") ? "/api/blobs/" : x.path);
  if (!methods) return sendBody(x, 404, TEXT_TYPE, "404 page not found");
  const handler = methods[x.method];
  if (!handler) return sendBody(x, 405, TEXT_TYPE, "405 method not allowed");
  if ((x.method === "POST" || x.method === "DELETE") && !x.path.startsWith("/api/blobs/") && x.bodyProblem) {
    return ollamaError(x, 400, x.bodyProblem === "missing" ? "missing request body" : "invalid request body");
  }
  handler(x, sim);
}

import { countWords } from "./answer.js";
import type { ModelEntry } from "./catalog.js";
import { complete } from "./openai-completions.js";
import { modelNotFound, openaiError, servedModel } from "./openai-wire.js";
import type { SimState } from "./state.js";
import { embeddingOf, toBase64 } from "./vectors.js";
import { sendBody, sendJson, TEXT_TYPE, type Exchange } from "./wire.js";

/** When an OpenAI-compatible server says its models were created. */
const SERVED_SINCE = 1_700_000_000;

function modelObject(m: ModelEntry, sim: SimState): Record<string, unknown> {
  return sim.kind === "ollama"
    ? { id: m.name, object: "model", created: Math.floor(Date.parse(m.modifiedAt) / 1000), owned_by: "library" }
    : { id: m.name, object: "model", created: SERVED_SINCE, owned_by: "sim" };
}

/** POST routes; their handlers read a JSON body. */
const ROUTES = new Map<string, (x: Exchange, sim: SimState) => void>([
  ["/v1/chat/completions", (x, sim) => complete(x, sim, true)],
  ["/v1/completions", (x, sim) => complete(x, sim, false)],
  ["/v1/embeddings", embeddings],
]);

/** The OpenAI API, as vLLM or llama.cpp server (or Ollama under /v1) answer it. */
export function routeOpenAI(x: Exchange, sim: SimState): void {
  const { method, path } = x;
  if (method === "GET" && path === "/v1/models") {
    return sendJson(x, 200, { object: "list", data: sim.catalog.list().map((m) => modelObject(m, sim)) });
  }
  if (method === "GET" && path.startsWith("/v1/models/")) {
    const id = decodeURIComponent(path.slice("/v1/models/".length));
    const m = sim.catalog.find(id);
    return m ? sendJson(x, 200, modelObject(m, sim)) : modelNotFound(x, sim, id);
  }
  const route = method === "POST" ? ROUTES.get(path) : undefined;
  if (!route) {
    if (sim.kind === "ollama") return sendBody(x, 404, TEXT_TYPE, "404 page not found");
    return openaiError(x, 404, `Invalid URL (${method} ${path})`);
  }
  if (x.bodyProblem) return openaiError(x, 400, "We could not parse the JSON body of your request.");
  route(x, sim);
}

/** Texts to embed: a string, a list of them, or token arrays (embedded by their text). */
function embeddingInputs(input: unknown): string[] | undefined {
  if (typeof input === "string") return [input];
  if (!Array.isArray(input) || input.length === 0) return undefined;
  if (input.every((i) => typeof i === "number")) return [input.join(" ")];
  if (input.every((i) => typeof i === "string" || Array.isArray(i))) return input.map((i) => (Array.isArray(i) ? i.join(" ") : String(i)));
  return undefined;
}

/** POST /v1/embeddings, with float or base64 vectors. */
function embeddings(x: Exchange, sim: SimState): void {
  const model = servedModel(x, sim);
  if (!model) return;
  const inputs = embeddingInputs(x.body.input);
  if (!inputs) return openaiError(x, 400, "'input' must be a string, an array of strings, or an array of token arrays.", "invalid_request_error", "input");
  const base64 = x.body.encoding_format === "base64";
  const dimensions = typeof x.body.dimensions === "number" ? x.body.dimensions : undefined;
  sim.catalog.load(model, () => {
    const data = inputs.map((text, index) => {
      const vector = embeddingOf(text, dimensions);
      return { object: "embedding", index, embedding: base64 ? toBase64(vector) : vector };
    });
    const tokens = countWords(inputs);
    sendJson(x, 200, { object: "list", data, model: x.body.model, usage: { prompt_tokens: tokens, total_tokens: tokens } });
  });
}

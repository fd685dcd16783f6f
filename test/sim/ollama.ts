import type { Exchange } from "./index.js";
import { countWords, modelKey, sendJson, streamChunks, vectorOf, type SimState } from "./state.js";

type Json = Record<string, unknown>;
const NDJSON = "application/x-ndjson";
const line = (x: unknown) => `${JSON.stringify(x)}\n`;

function digest(name: string): string {
  return `sha256:${Buffer.from(name).toString("hex").padEnd(64, "0").slice(0, 64)}`;
}

const details = { parent_model: "", format: "gguf", family: "llama", families: ["llama"], parameter_size: "1B", quantization_level: "Q4_0" };

function tag(name: string): Json {
  return { name, model: name, modified_at: "2025-01-01T00:00:00Z", size: 1_000_000, digest: digest(name), details };
}

function notFound(x: Exchange, name: unknown): void {
  sendJson(x.res, 404, { error: `model "${String(name)}" not found, try pulling it first` });
}

/** Ollama's API, as its server answers it. */
export function handleOllama(x: Exchange, sim: SimState): void {
  const { req, res, path, body } = x;
  const route = `${req.method} ${path.startsWith("/api/blobs/") ? "/api/blobs/" : path}`;
  switch (route) {
    case "GET /":
      res.writeHead(200, { "content-type": "text/plain" }).end("Ollama is running");
      return;
    case "GET /api/version":
      return sendJson(res, 200, { version: sim.options.version ?? "0.12.0" });
    case "GET /api/tags":
      return sendJson(res, 200, { models: [...sim.models.values()].map(tag) });
    case "GET /api/ps":
      return sendJson(res, 200, { models: [...sim.loaded.values()].map((n) => ({ ...tag(n), expires_at: "2099-01-01T00:00:00Z", size_vram: 1_000_000 })) });
    case "POST /api/chat":
    case "POST /api/generate":
      return answer(x, sim, path === "/api/chat");
    case "POST /api/embed":
    case "POST /api/embeddings":
      return embed(x, sim, path === "/api/embeddings");
    case "POST /api/show": {
      const name = sim.find(body.model ?? body.name);
      if (!name) return notFound(x, body.model ?? body.name);
      return sendJson(res, 200, { modelfile: `FROM ${name}`, parameters: "", template: "{{ .Prompt }}", details, model_info: { "general.architecture": "llama" }, capabilities: ["completion"] });
    }
    case "POST /api/pull":
      return modelWrite(x, sim, String(body.model ?? body.name), [
        { status: "pulling manifest" },
        ...[0, 500, 1000].map((completed) => ({ status: `pulling ${digest("layer")}`, digest: digest("layer"), total: 1000, completed })),
        { status: "verifying sha256 digest" },
        { status: "writing manifest" },
        { status: "success" },
      ]);
    case "POST /api/create":
      return modelWrite(x, sim, String(body.model ?? body.name), [{ status: `using existing layer ${digest("layer")}` }, { status: "writing manifest" }, { status: "success" }]);
    case "POST /api/push":
      if (!sim.find(body.model ?? body.name)) return notFound(x, body.model ?? body.name);
      return statusLines(x, [{ status: "retrieving manifest" }, { status: "pushing manifest" }, { status: "success" }]);
    case "POST /api/copy": {
      const source = sim.find(body.source);
      if (!source) return sendJson(res, 404, { error: `model '${String(body.source)}' not found` });
      sim.models.set(modelKey(String(body.destination)), String(body.destination));
      res.writeHead(200).end();
      return;
    }
    case "DELETE /api/delete": {
      const name = String(body.model ?? body.name);
      if (!sim.models.delete(modelKey(name))) return sendJson(res, 404, { error: `model '${name}' not found` });
      sim.loaded.delete(modelKey(name));
      res.writeHead(200).end();
      return;
    }
    case "HEAD /api/blobs/":
      res.writeHead(sim.blobs.has(path.slice("/api/blobs/".length)) ? 200 : 404).end();
      return;
    case "POST /api/blobs/":
      sim.blobs.add(path.slice("/api/blobs/".length));
      res.writeHead(201).end();
      return;
    default:
      res.writeHead(404, { "content-type": "text/plain" }).end("404 page not found");
  }
}

function modelWrite(x: Exchange, sim: SimState, name: string, lines: Json[]): void {
  sim.models.set(modelKey(name), name.includes(":") ? name : `${name}:latest`);
  statusLines(x, lines);
}

function statusLines(x: Exchange, lines: Json[]): void {
  if (x.body.stream === false) return sendJson(x.res, 200, lines.at(-1));
  streamChunks(x.res, NDJSON, lines.map(line), 0, x.dropAfterChunks);
}

function answer(x: Exchange, sim: SimState, chat: boolean): void {
  const { body, res } = x;
  const model = sim.find(body.model);
  if (!model) return notFound(x, body.model);
  sim.loaded.set(modelKey(model), model);
  const created_at = new Date().toISOString();
  const options = (body.options ?? {}) as Json;
  const { tokens, reason } = sim.limited(options.num_predict);
  const calls = chat && Array.isArray(body.tools) ? sim.takeToolCalls() : undefined;
  const prompt = countWords(chat ? body.messages : body.prompt);
  const final = {
    model,
    created_at,
    ...(chat ? { message: { role: "assistant", content: "" } } : { response: "", context: [1, 2, 3] }),
    done: true,
    done_reason: reason,
    total_duration: 1000,
    load_duration: 0,
    prompt_eval_count: prompt,
    prompt_eval_duration: 0,
    eval_count: calls ? 1 : tokens.length,
    eval_duration: 0,
  };
  const toolMessage = calls && { role: "assistant", content: "", tool_calls: calls.map((c) => ({ function: { name: c.name, arguments: c.arguments } })) };
  const piece = (content: string, thinking?: string) =>
    chat
      ? { model, created_at, message: { role: "assistant", content, ...(thinking ? { thinking } : {}) }, done: false }
      : { model, created_at, response: content, ...(thinking ? { thinking } : {}), done: false };

  if (body.stream === false) {
    const content = reason === "length" ? tokens.join("") : sim.wholeAnswer;
    const thinking = body.think === true ? { thinking: "Thinking..." } : {};
    if (chat) return sendJson(res, 200, { ...final, message: toolMessage ?? { role: "assistant", content: calls ? "" : content, ...thinking } });
    return sendJson(res, 200, { ...final, response: content, ...thinking });
  }
  const chunks: string[] = [];
  if (body.think === true) chunks.push(line(piece("", "Thinking...")));
  if (toolMessage) chunks.push(line({ model, created_at, message: toolMessage, done: false }));
  else for (const t of tokens) chunks.push(line(piece(t)));
  chunks.push(line(final));
  streamChunks(res, NDJSON, chunks, sim.options.tokenIntervalMs, x.dropAfterChunks);
}

function embed(x: Exchange, sim: SimState, legacy: boolean): void {
  const { body, res } = x;
  const model = sim.find(body.model);
  if (!model) return notFound(x, body.model);
  if (legacy) return sendJson(res, 200, { embedding: vectorOf(String(body.prompt ?? "")) });
  const inputs = Array.isArray(body.input) ? body.input.map(String) : [String(body.input ?? "")];
  sendJson(res, 200, { model, embeddings: inputs.map(vectorOf), total_duration: 1000, load_duration: 0, prompt_eval_count: countWords(inputs) });
}

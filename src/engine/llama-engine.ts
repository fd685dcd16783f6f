import { existsSync } from "node:fs";
import { getLlama, LlamaLogLevel, type Llama } from "node-llama-cpp";
import { modelKey } from "../fleet/index.js";
import { BUILD } from "../kernel/index.js";
import type { Inventory, LocalRequest, LocalResponse, LocalServer } from "./local-server.js";
import { LoadedModel } from "./llama-model.js";
import type { ModelFile } from "./model-spec.js";
import { chatReply, generateReply, loadReply, type GenerationOptions, type Message, type Reply } from "./ollama-replies.js";

export interface LlamaEngineOptions {
  models: ModelFile[];
  /** Generations at once per model; later ones wait. */
  maxConcurrency?: number;
  contextSize?: number;
  log?: (message: string) => void;
}

type Body = Record<string, unknown>;

const NDJSON = "application/x-ndjson";
const JSON_TYPE = "application/json; charset=utf-8";

class BadRequest extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * GGUF files served through llama.cpp (node-llama-cpp's prebuilt CPU build),
 * answering Ollama's API: the gateway's embedded node and `flotilla worker
 * --model` both run this.
 */
export class LlamaEngine implements LocalServer {
  readonly api = "ollama";

  private constructor(
    private readonly llama: Llama,
    private readonly models: Map<string, LoadedModel>,
  ) {}

  static async open(options: LlamaEngineOptions): Promise<LlamaEngine> {
    for (const file of options.models) {
      if (!existsSync(file.path)) throw new Error(`model ${file.name}: no file at ${file.path}`);
    }
    const log = options.log ?? (() => undefined);
    const llama = await getLlama({ gpu: false, build: "never", logLevel: LlamaLogLevel.error, logger: (level, message) => log(`llama.cpp ${level}: ${message.trim()}`) });
    const models = new Map<string, LoadedModel>();
    try {
      for (const file of options.models) {
        const loaded = await LoadedModel.load(llama, file, { maxConcurrency: options.maxConcurrency ?? 2, contextSize: options.contextSize });
        if (models.has(modelKey(loaded.name))) throw new Error(`two models are named ${loaded.name}`);
        models.set(modelKey(loaded.name), loaded);
        log(`loaded ${loaded.name} from ${file.path} in ${Math.round(loaded.loadNs / 1e6)} ms`);
      }
    } catch (err) {
      for (const model of models.values()) await model.dispose();
      await llama.dispose();
      throw err;
    }
    return new LlamaEngine(llama, models);
  }

  async handle(request: LocalRequest): Promise<LocalResponse> {
    try {
      return await this.route(request);
    } catch (err) {
      if (err instanceof BadRequest) return json(err.status, { error: err.message });
      throw err;
    }
  }

  private async route(request: LocalRequest): Promise<LocalResponse> {
    const path = request.path.split("?", 1)[0];
    if (request.method === "GET" || request.method === "HEAD") {
      if (path === "/api/version") return json(200, { version: BUILD.version });
      if (path === "/api/tags") return json(200, { models: [...this.models.values()].map((m) => ({ ...m.entry, model: m.name })) });
      if (path === "/api/ps") return json(200, { models: [...this.models.values()].map((m) => m.loadedEntry) });
      if (path === "/") return { status: 200, headers: { "content-type": "text/plain" }, body: once(Buffer.from("Ollama is running")) };
    }
    if (request.method !== "POST") throw new BadRequest(404, "404 page not found");
    switch (path) {
      case "/api/chat":
        return this.chat(parseBody(request.body), request.signal);
      case "/api/generate":
        return this.generate(parseBody(request.body), request.signal);
      case "/api/embed":
        return this.embed(parseBody(request.body));
      case "/api/embeddings":
        return this.embeddingsLegacy(parseBody(request.body));
      case "/api/show":
        return this.show(parseBody(request.body));
      default:
        throw new BadRequest(404, "404 page not found");
    }
  }

  async inventory(): Promise<Inventory> {
    return { available: [...this.models.values()].map((m) => m.entry), loaded: [...this.models.values()].map((m) => m.loadedEntry) };
  }

  async close(): Promise<void> {
    for (const model of this.models.values()) await model.dispose();
    await this.llama.dispose();
  }

  private model(body: Body): LoadedModel {
    const name = body.model ?? body.name;
    if (typeof name !== "string" || name === "") throw new BadRequest(400, "model is required");
    const found = this.models.get(modelKey(name));
    if (!found) throw new BadRequest(404, `model "${name}" not found, try pulling it first`);
    return found;
  }

  private chat(body: Body, signal: AbortSignal): LocalResponse {
    const model = this.model(body);
    const messages = body.messages ?? [];
    if (!Array.isArray(messages) || messages.some((m) => typeof m !== "object" || m === null || typeof (m as Message).role !== "string")) {
      throw new BadRequest(400, "messages must be a list of {role, content}");
    }
    for (const m of messages as Array<Message & { images?: unknown[] }>) {
      if (m.content !== undefined && typeof m.content !== "string") throw new BadRequest(400, "message content must be a string");
      if (m.images?.length) throw new BadRequest(400, `${model.name} does not take images`);
    }
    const stream = body.stream !== false;
    if (messages.length === 0) return ndjsonOrJson(stream, loadReply(model, "chat"));
    return ndjsonOrJson(stream, chatReply({ model, messages: messages as Message[], options: options(body), stream, signal }));
  }

  private generate(body: Body, signal: AbortSignal): LocalResponse {
    const model = this.model(body);
    const prompt = body.prompt ?? "";
    if (typeof prompt !== "string") throw new BadRequest(400, "prompt must be a string");
    if (Array.isArray(body.images) && body.images.length) throw new BadRequest(400, `${model.name} does not take images`);
    const stream = body.stream !== false;
    if (prompt === "") return ndjsonOrJson(stream, loadReply(model, "generate"));
    const system = typeof body.system === "string" ? body.system : undefined;
    return ndjsonOrJson(stream, generateReply({ model, prompt, system, raw: body.raw === true, options: options(body), stream, signal }));
  }

  private async embed(body: Body): Promise<LocalResponse> {
    const started = process.hrtime.bigint();
    const model = this.model(body);
    const inputs = typeof body.input === "string" ? [body.input] : body.input;
    if (!Array.isArray(inputs) || inputs.some((i) => typeof i !== "string")) throw new BadRequest(400, "input must be a string or a list of strings");
    const embeddings: number[][] = [];
    let tokens = 0;
    for (const input of inputs as string[]) {
      embeddings.push(normalize(await model.embed(input)));
      tokens += model.model.tokenize(input).length;
    }
    return json(200, { model: model.name, embeddings, total_duration: Number(process.hrtime.bigint() - started), load_duration: model.loadNs, prompt_eval_count: tokens });
  }

  private async embeddingsLegacy(body: Body): Promise<LocalResponse> {
    const model = this.model(body);
    if (typeof body.prompt !== "string") throw new BadRequest(400, "prompt must be a string");
    return json(200, { embedding: [...(await model.embed(body.prompt))] });
  }

  private show(body: Body): LocalResponse {
    const model = this.model(body);
    const metadata = model.model.fileInfo.metadata as { general?: Record<string, unknown>; tokenizer?: { chat_template?: string } };
    return json(200, {
      license: "",
      modelfile: `FROM ${model.file.path}\n`,
      parameters: "",
      template: metadata.tokenizer?.chat_template ?? "",
      details: model.entry.details,
      model_info: { "general.architecture": metadata.general?.architecture, "general.name": metadata.general?.name, context_length: model.model.trainContextSize },
      capabilities: ["completion", "embedding"],
      modified_at: model.entry.modified_at,
    });
  }
}

function parseBody(body: Buffer | undefined): Body {
  if (!body || body.length === 0) throw new BadRequest(400, "missing request body");
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString("utf8"));
  } catch {
    throw new BadRequest(400, "invalid JSON in the request body");
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new BadRequest(400, "the request body must be a JSON object");
  return parsed as Body;
}

function options(body: Body): GenerationOptions {
  const given = body.options;
  if (given === undefined || given === null) return {};
  if (typeof given !== "object" || Array.isArray(given)) throw new BadRequest(400, "options must be an object");
  const o = given as Record<string, unknown>;
  const number = (name: string) => {
    const value = o[name];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== "number" || !Number.isFinite(value)) throw new BadRequest(400, `options.${name} must be a number`);
    return value;
  };
  const stop = o.stop;
  if (stop !== undefined && (!Array.isArray(stop) || stop.some((s) => typeof s !== "string"))) throw new BadRequest(400, "options.stop must be a list of strings");
  return { temperature: number("temperature"), top_k: number("top_k"), top_p: number("top_p"), min_p: number("min_p"), seed: number("seed"), num_predict: number("num_predict"), stop: stop as string[] | undefined };
}

function normalize(vector: readonly number[]): number[] {
  const norm = Math.sqrt(vector.reduce((sum, x) => sum + x * x, 0)) || 1;
  return vector.map((x) => x / norm);
}

function json(status: number, value: unknown): LocalResponse {
  return { status, headers: { "content-type": JSON_TYPE }, body: once(Buffer.from(JSON.stringify(value))) };
}

function ndjsonOrJson(stream: boolean, reply: Reply): LocalResponse {
  return { status: 200, headers: { "content-type": stream ? NDJSON : JSON_TYPE }, body: reply };
}

async function* once(buffer: Buffer): AsyncGenerator<Buffer> {
  yield buffer;
}

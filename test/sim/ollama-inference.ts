import { countWords, estimateTokens, THINKING_TOKENS } from "./answer.js";
import type { ModelEntry } from "./catalog.js";
import { isZeroDuration, line, NDJSON, notPulled, ollamaError } from "./ollama-wire.js";
import type { SimState } from "./state.js";
import { embeddingOf } from "./vectors.js";
import { elapsedNs, isObject, sendJson, streamChunks, type Chunk, type Exchange, type Json } from "./wire.js";

/** Nanoseconds a simulated prompt token takes to evaluate. */
const PROMPT_TOKEN_NS = 100_000;

/** Finds the model a request names, answering 400 or 404 as Ollama does when it cannot. */
function modelFor(x: Exchange, sim: SimState): { requested: string; model: ModelEntry } | undefined {
  const requested = x.body.model;
  if (typeof requested !== "string" || requested === "") return void ollamaError(x, 400, "model is required");
  const model = sim.catalog.find(requested);
  if (!model) return void notPulled(x, requested);
  return { requested, model };
}

/** POST /api/chat and /api/generate. Ollama streams NDJSON unless `stream: false`, and echoes the model name it was sent. */
export function answerOllama(x: Exchange, sim: SimState, chat: boolean): void {
  const found = modelFor(x, sim);
  if (!found) return;
  const { requested, model } = found;
  const empty = chat ? !Array.isArray(x.body.messages) || x.body.messages.length === 0 : !x.body.prompt;
  if (empty && isZeroDuration(x.body.keep_alive)) {
    sim.catalog.unload(model);
    return sendJson(x, 200, loadReply(requested, chat, "unload"));
  }
  sim.catalog.load(model, (loadNs) => {
    if (empty) return sendJson(x, 200, loadReply(requested, chat, "load"));
    reply(x, sim, requested, chat, loadNs);
  });
}

/** The answer to an empty chat or prompt: Ollama loads (or unloads) the model and says so. */
function loadReply(model: string, chat: boolean, reason: "load" | "unload"): Json {
  const created_at = new Date().toISOString();
  return chat
    ? { model, created_at, message: { role: "assistant", content: "" }, done_reason: reason, done: true }
    : { model, created_at, response: "", done: true, done_reason: reason };
}

function reply(x: Exchange, sim: SimState, model: string, chat: boolean, loadNs: number): void {
  const { body } = x;
  const streamed = body.stream !== false;
  const options = isObject(body.options) ? body.options : {};
  const { tokens, reason } = sim.answer.plan(streamed, options.num_predict);
  const scripted = chat && Array.isArray(body.tools) && body.tools.length > 0 ? sim.takeToolCalls() : undefined;
  const toolCalls = scripted?.map((call) => ({ function: { name: call.name, arguments: call.arguments } }));
  const thinking = body.think === true || ["high", "medium", "low"].includes(String(body.think)) ? THINKING_TOKENS : [];
  const promptCount = countWords(chat ? body.messages : body.prompt);
  const evalCount = thinking.length + (toolCalls ? estimateTokens(JSON.stringify(toolCalls)) : tokens.length);
  const context = body.raw === true ? {} : { context: Array.from({ length: promptCount + evalCount }, (_, i) => i + 1) };
  const stamp = () => new Date().toISOString();
  const metrics = (): Json => {
    const total = elapsedNs(x);
    const promptNs = promptCount * PROMPT_TOKEN_NS;
    return {
      total_duration: total,
      load_duration: loadNs,
      prompt_eval_count: promptCount,
      prompt_eval_duration: promptNs,
      eval_count: evalCount,
      eval_duration: Math.max(total - loadNs - promptNs, 1_000),
    };
  };
  const final = (content: string, extra: Json): Json =>
    chat
      ? { model, created_at: stamp(), message: { role: "assistant", content, ...extra }, done_reason: reason, done: true, ...metrics() }
      : { model, created_at: stamp(), response: content, ...extra, done: true, done_reason: reason, ...context, ...metrics() };

  if (!streamed) {
    const extra = { ...(thinking.length ? { thinking: thinking.join("") } : {}), ...(toolCalls ? { tool_calls: toolCalls } : {}) };
    return sendJson(x, 200, final(toolCalls ? "" : tokens.join(""), extra));
  }
  const piece = (content: string, extra: Json = {}): Chunk => () =>
    line(
      chat
        ? { model, created_at: stamp(), message: { role: "assistant", content, ...extra }, done: false }
        : { model, created_at: stamp(), response: content, ...extra, done: false },
    );
  const chunks: Chunk[] = thinking.map((t) => piece("", { thinking: t }));
  if (toolCalls) chunks.push(piece("", { tool_calls: toolCalls }));
  else for (const token of tokens) chunks.push(piece(token));
  chunks.push(() => line(final("", {})));
  streamChunks(x, NDJSON, chunks, sim.tokenIntervalMs);
}

/** POST /api/embed: `input` is a string or a list of them; an empty string embeds nothing. */
export function embed(x: Exchange, sim: SimState): void {
  const { input } = x.body;
  const valid = typeof input === "string" || input === undefined || (Array.isArray(input) && input.every((i) => typeof i === "string"));
  if (!valid) return ollamaError(x, 400, "invalid input type");
  const inputs: string[] = Array.isArray(input) ? input : input ? [input] : [];
  const found = modelFor(x, sim);
  if (!found) return;
  const dimensions = typeof x.body.dimensions === "number" ? x.body.dimensions : undefined;
  sim.catalog.load(found.model, (loadNs) => {
    if (inputs.length === 0) return sendJson(x, 200, { model: found.requested, embeddings: [] });
    sendJson(x, 200, {
      model: found.requested,
      embeddings: inputs.map((text) => embeddingOf(text, dimensions)),
      total_duration: elapsedNs(x),
      load_duration: loadNs,
      prompt_eval_count: countWords(inputs),
    });
  });
}

/** POST /api/embeddings, the legacy form: `prompt` in, one `embedding` out. */
export function legacyEmbed(x: Exchange, sim: SimState): void {
  const found = modelFor(x, sim);
  if (!found) return;
  const prompt = typeof x.body.prompt === "string" ? x.body.prompt : "";
  sim.catalog.load(found.model, () => sendJson(x, 200, { embedding: prompt ? embeddingOf(prompt) : [] }));
}

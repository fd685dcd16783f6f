import { LlamaChat, LlamaCompletion, type ChatHistoryItem, type LlamaContextSequence } from "node-llama-cpp";
import type { LoadedModel } from "./llama-model.js";
import { TextQueue } from "./text-queue.js";

/** What Ollama accepts in `options` that llama.cpp can honour here. */
export interface GenerationOptions {
  temperature?: number;
  top_k?: number;
  top_p?: number;
  min_p?: number;
  seed?: number;
  num_predict?: number;
  stop?: string[];
}

export interface Message {
  role: string;
  content?: string;
}

export type Reply = AsyncIterable<Buffer>;

/** Ollama's default sampling temperature. */
const DEFAULT_TEMPERATURE = 0.8;

interface Outcome {
  stopReason: string;
  promptTokens: number;
  outputTokens: number;
  promptNs: number;
  evalNs: number;
}

type Generate = (sequence: LlamaContextSequence, onText: (text: string) => void, signal: AbortSignal) => Promise<string>;

/**
 * Runs one generation on a sequence of its own and yields its text as it
 * comes; stopping the iteration aborts the generation and frees the sequence.
 */
async function* generate(model: LoadedModel, run: Generate, signal: AbortSignal, outcome: Outcome): AsyncGenerator<string> {
  const { sequence, release } = await model.acquire(signal);
  const abort = new AbortController();
  const onAbort = () => abort.abort();
  signal.addEventListener("abort", onAbort, { once: true });
  const meter = sequence.tokenMeter;
  const [inputBefore, outputBefore] = [meter.usedInputTokens, meter.usedOutputTokens];
  const queue = new TextQueue();
  const started = process.hrtime.bigint();
  let firstAt: bigint | undefined;
  const done = run(
    sequence,
    (text) => {
      firstAt ??= process.hrtime.bigint();
      queue.push(text);
    },
    abort.signal,
  ).then(
    (reason) => {
      outcome.stopReason = reason;
      queue.end();
    },
    (err: unknown) => queue.end(err),
  );
  try {
    yield* queue;
    await done;
    const ended = process.hrtime.bigint();
    outcome.promptTokens = meter.usedInputTokens - inputBefore;
    outcome.outputTokens = meter.usedOutputTokens - outputBefore;
    outcome.promptNs = Number((firstAt ?? ended) - started);
    outcome.evalNs = Number(ended - (firstAt ?? ended));
  } finally {
    abort.abort();
    signal.removeEventListener("abort", onAbort);
    await done;
    await release();
  }
}

function sampling(options: GenerationOptions, contextSize: number) {
  const limit = options.num_predict === undefined || options.num_predict < 0 ? contextSize : options.num_predict;
  return {
    temperature: options.temperature ?? DEFAULT_TEMPERATURE,
    topK: options.top_k,
    topP: options.top_p,
    minP: options.min_p,
    seed: options.seed,
    // Without a limit a context shift would let generation run forever; Ollama stops at the context too.
    maxTokens: limit,
    customStopTriggers: options.stop?.length ? options.stop : undefined,
  };
}

function doneReason(stopReason: string): string {
  return stopReason === "maxTokens" ? "length" : "stop";
}

function history(messages: Message[]): ChatHistoryItem[] {
  const items: ChatHistoryItem[] = messages.map((m): ChatHistoryItem => {
    if (m.role === "system") return { type: "system", text: m.content ?? "" };
    if (m.role === "assistant") return { type: "model", response: [m.content ?? ""] };
    return { type: "user", text: m.content ?? "" };
  });
  items.push({ type: "model", response: [] });
  return items;
}

const line = (value: object) => Buffer.from(`${JSON.stringify(value)}\n`);

function durations(outcome: Outcome, model: LoadedModel, startedAt: bigint) {
  return {
    total_duration: Number(process.hrtime.bigint() - startedAt),
    load_duration: model.loadNs,
    prompt_eval_count: outcome.promptTokens,
    prompt_eval_duration: outcome.promptNs,
    eval_count: outcome.outputTokens,
    eval_duration: outcome.evalNs,
  };
}

export interface TextRequest {
  model: LoadedModel;
  options: GenerationOptions;
  stream: boolean;
  signal: AbortSignal;
}

/** POST /api/chat, with the model's own chat template. */
export function chatReply(request: TextRequest & { messages: Message[] }): Reply {
  return textReply(request, chatRun(request.model, request.messages, request.options), (text) => ({ message: { role: "assistant", content: text } }));
}

/** POST /api/generate: through the chat template unless `raw`. */
export function generateReply(request: TextRequest & { prompt: string; system?: string; raw: boolean }): Reply {
  if (!request.raw) {
    const messages: Message[] = [...(request.system ? [{ role: "system", content: request.system }] : []), { role: "user", content: request.prompt }];
    return textReply(request, chatRun(request.model, messages, request.options), (text) => ({ response: text }));
  }
  const run: Generate = async (sequence, onText, signal) => {
    const completion = new LlamaCompletion({ contextSequence: sequence, autoDisposeSequence: false });
    try {
      const result = await completion.generateCompletionWithMeta(request.prompt, { ...sampling(request.options, sequence.contextSize), onTextChunk: onText, signal, stopOnAbortSignal: true });
      return result.metadata.stopReason;
    } finally {
      completion.dispose({ disposeSequence: false });
    }
  };
  return textReply(request, run, (text) => ({ response: text }));
}

function chatRun(model: LoadedModel, messages: Message[], options: GenerationOptions): Generate {
  return async (sequence, onText, signal) => {
    const chat = new LlamaChat({ contextSequence: sequence, chatWrapper: model.chatWrapper, autoDisposeSequence: false });
    try {
      const result = await chat.generateResponse(history(messages), { ...sampling(options, sequence.contextSize), onTextChunk: onText, signal, stopOnAbortSignal: true });
      return result.metadata.stopReason;
    } finally {
      chat.dispose({ disposeSequence: false });
    }
  };
}

/** NDJSON chunks then a final record when streaming; one JSON object when not. */
async function* textReply(request: TextRequest, run: Generate, piece: (text: string) => object): Reply {
  const startedAt = process.hrtime.bigint();
  const outcome: Outcome = { stopReason: "eogToken", promptTokens: 0, outputTokens: 0, promptNs: 0, evalNs: 0 };
  const head = () => ({ model: request.model.name, created_at: new Date().toISOString() });
  let whole = "";
  for await (const text of generate(request.model, run, request.signal, outcome)) {
    if (request.stream) yield line({ ...head(), ...piece(text), done: false });
    else whole += text;
  }
  const final = { done: true, done_reason: doneReason(outcome.stopReason), ...durations(outcome, request.model, startedAt) };
  yield line({ ...head(), ...piece(request.stream ? "" : whole), ...final });
}

/** Ollama's answer to a request with nothing to generate: the model is loaded (here it always is). */
export function loadReply(model: LoadedModel, shape: "chat" | "generate"): Reply {
  const body = { model: model.name, created_at: new Date().toISOString(), ...(shape === "chat" ? { message: { role: "assistant", content: "" } } : { response: "" }), done_reason: "load", done: true };
  return (async function* () {
    yield line(body);
  })();
}

import { countWords, estimateTokens } from "./answer.js";
import type { ScriptedToolCall } from "./options.js";
import { openaiError, servedModel, SSE } from "./openai-wire.js";
import type { SimState } from "./state.js";
import { isObject, JSON_TYPE, sendBody, streamChunks, type Exchange, type Json } from "./wire.js";

/** What decides an answer's body, apart from its id and timestamp. */
interface Request {
  chat: boolean;
  model: string;
  streamed: boolean;
  promptTokens: number;
  limit: unknown;
  includeUsage: boolean;
}

/** Argument fragments of a streamed tool call are at most this long. */
const FRAGMENT_CHARS = 8;

/**
 * POST /v1/chat/completions and /v1/completions. Bodies are built as tails
 * (everything after `"created":N,`) and, for text answers, remembered by what
 * decides them; each answer only prefixes its own id and timestamp.
 */
export function complete(x: Exchange, sim: SimState, chat: boolean): void {
  const { body } = x;
  if (chat && !Array.isArray(body.messages)) {
    return openaiError(x, 400, "Missing required parameter: 'messages'.", "invalid_request_error", "messages", "missing_required_parameter");
  }
  const model = servedModel(x, sim);
  if (!model) return;
  sim.catalog.load(model, () => {
    const streamed = body.stream === true;
    const request: Request = {
      chat,
      model: String(body.model),
      streamed,
      promptTokens: countWords(chat ? body.messages : body.prompt),
      limit: body.max_completion_tokens ?? body.max_tokens,
      includeUsage: streamed && isObject(body.stream_options) && body.stream_options.include_usage === true,
    };
    const calls = chat && Array.isArray(body.tools) && body.tools.length > 0 ? sim.takeToolCalls() : undefined;
    const tails = calls
      ? toolCallTails(request, calls, sim)
      : sim.remember(JSON.stringify(request), () => textTails(request, sim));
    const object = chat ? (streamed ? "chat.completion.chunk" : "chat.completion") : "text_completion";
    const head = `{"id":"${chat ? "chatcmpl" : "cmpl"}-sim${sim.nextId()}","object":"${object}","created":${Math.floor(Date.now() / 1000)},`;
    if (!streamed) return sendBody(x, 200, JSON_TYPE, head + tails[0]);
    streamChunks(x, SSE, [...tails.map((tail) => `data: ${head}${tail}\n\n`), "data: [DONE]\n\n"], sim.tokenIntervalMs);
  });
}

/** The rest of an answer object after its id, object and created fields. */
function tail(request: Request, rest: Json): string {
  return JSON.stringify({ model: request.model, ...rest }).slice(1);
}

function usage(request: Request, completion: number): Json {
  return { prompt_tokens: request.promptTokens, completion_tokens: completion, total_tokens: request.promptTokens + completion };
}

/** A text answer: whole, or as chunks (role first for chat, then content, then the finish reason, then usage when asked). */
function textTails(request: Request, sim: SimState): string[] {
  const { chat } = request;
  const { tokens, reason } = sim.answer.plan(request.streamed, request.limit);
  if (!request.streamed) {
    const text = tokens.join("");
    const choice = chat
      ? { index: 0, message: { role: "assistant", content: text, refusal: null }, logprobs: null, finish_reason: reason }
      : { text, index: 0, logprobs: null, finish_reason: reason };
    return [tail(request, { choices: [choice], usage: usage(request, tokens.length) })];
  }
  const chunk = (delta: Json, finish: string | null) => chunkTail(request, chat ? { index: 0, delta, logprobs: null, finish_reason: finish } : { text: delta.content ?? "", index: 0, logprobs: null, finish_reason: finish });
  const tails = chat ? [chunk({ role: "assistant", content: "" }, null)] : [];
  for (const token of tokens) tails.push(chunk({ content: token }, null));
  tails.push(chunk({}, reason));
  if (request.includeUsage) tails.push(tail(request, { choices: [], usage: usage(request, tokens.length) }));
  return tails;
}

/** One streamed choice; with include_usage every chunk carries `usage: null` until the last. */
function chunkTail(request: Request, choice: Json): string {
  return tail(request, { choices: [choice], ...(request.includeUsage ? { usage: null } : {}) });
}

/** Tool calls: whole, or streamed as OpenAI does, a call's id and name first, then its arguments in fragments, each with its index. */
function toolCallTails(request: Request, calls: ScriptedToolCall[], sim: SimState): string[] {
  const toolCalls = calls.map((c) => ({ id: `call_sim${sim.nextId()}`, type: "function", function: { name: c.name, arguments: JSON.stringify(c.arguments) } }));
  const completion = estimateTokens(toolCalls.map((c) => c.function.arguments).join(""));
  if (!request.streamed) {
    const message = { role: "assistant", content: null, refusal: null, tool_calls: toolCalls };
    return [tail(request, { choices: [{ index: 0, message, logprobs: null, finish_reason: "tool_calls" }], usage: usage(request, completion) })];
  }
  const chunk = (delta: Json, finish: string | null = null) => chunkTail(request, { index: 0, delta, logprobs: null, finish_reason: finish });
  const tails: string[] = [];
  toolCalls.forEach((call, index) => {
    const opening = { index, id: call.id, type: "function", function: { name: call.function.name, arguments: "" } };
    tails.push(chunk(index === 0 ? { role: "assistant", content: null, tool_calls: [opening] } : { tool_calls: [opening] }));
    for (const fragment of fragments(call.function.arguments)) tails.push(chunk({ tool_calls: [{ index, function: { arguments: fragment } }] }));
  });
  tails.push(chunk({}, "tool_calls"));
  if (request.includeUsage) tails.push(tail(request, { choices: [], usage: usage(request, completion) }));
  return tails;
}

/** Cuts text into pieces of at most FRAGMENT_CHARS, and into at least two. */
function fragments(text: string): string[] {
  const size = Math.max(1, Math.min(FRAGMENT_CHARS, Math.ceil(text.length / 2)));
  const pieces: string[] = [];
  for (let i = 0; i < text.length; i += size) pieces.push(text.slice(i, i + size));
  return pieces;
}

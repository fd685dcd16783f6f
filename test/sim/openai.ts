import type { Exchange } from "./index.js";
import { countWords, sendJson, streamChunks, vectorOf, type SimState } from "./state.js";

type Json = Record<string, unknown>;
const SSE = "text/event-stream";
const CREATED = 1_700_000_000;
const event = (x: unknown) => `data: ${JSON.stringify(x)}\n\n`;

function notFound(x: Exchange, name: unknown): void {
  sendJson(x.res, 404, { error: { message: `The model \`${String(name)}\` does not exist.`, type: "invalid_request_error", param: "model", code: "model_not_found" } });
}

/** The OpenAI API, as vLLM or llama.cpp server answer it. */
export function handleOpenAI(x: Exchange, sim: SimState): void {
  const route = `${x.req.method} ${x.path}`;
  switch (route) {
    case "GET /v1/models":
      return sendJson(x.res, 200, { object: "list", data: [...sim.models.values()].map((id) => ({ id, object: "model", created: CREATED, owned_by: "sim" })) });
    case "POST /v1/chat/completions":
      return complete(x, sim, true);
    case "POST /v1/completions":
      return complete(x, sim, false);
    case "POST /v1/embeddings":
      return embeddings(x, sim);
    default:
      sendJson(x.res, 404, { error: { message: `no route ${route}`, type: "invalid_request_error", param: null, code: "not_found" } });
  }
}

function complete(x: Exchange, sim: SimState, chat: boolean): void {
  const { body, res } = x;
  const model = sim.find(body.model);
  if (!model) return notFound(x, body.model);
  const { tokens, reason } = sim.limited(body.max_tokens);
  const calls = chat && Array.isArray(body.tools) ? sim.takeToolCalls() : undefined;
  const prompt = countWords(chat ? body.messages : body.prompt);
  const completion = calls ? calls.length : tokens.length;
  const usage = { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
  const finish = calls ? "tool_calls" : reason;
  const id = chat ? "chatcmpl-sim1" : "cmpl-sim1";
  const object = chat ? "chat.completion" : "text_completion";
  const toolCalls = calls?.map((c, i) => ({ id: `call_${i}`, type: "function", function: { name: c.name, arguments: JSON.stringify(c.arguments) } }));

  if (body.stream !== true) {
    const text = reason === "length" ? tokens.join("") : sim.wholeAnswer;
    const choice = chat
      ? { index: 0, message: calls ? { role: "assistant", content: null, tool_calls: toolCalls } : { role: "assistant", content: text }, finish_reason: finish }
      : { text, index: 0, logprobs: null, finish_reason: finish };
    return sendJson(res, 200, { id, object, created: CREATED, model, choices: [choice], usage });
  }
  const chunkObject = chat ? "chat.completion.chunk" : "text_completion";
  const chunk = (choice: Json) => event({ id, object: chunkObject, created: CREATED, model, choices: [choice] });
  const delta = (d: Json, finishReason: string | null = null) =>
    chat ? chunk({ index: 0, delta: d, finish_reason: finishReason }) : chunk({ text: String(d.content ?? ""), index: 0, logprobs: null, finish_reason: finishReason });
  const chunks: string[] = [];
  if (chat) chunks.push(delta({ role: "assistant", content: "" }));
  if (toolCalls) {
    toolCalls.forEach((call, index) => {
      chunks.push(delta({ tool_calls: [{ index, id: call.id, type: "function", function: { name: call.function.name, arguments: "" } }] }));
      const args = call.function.arguments;
      const cut = Math.ceil(args.length / 2);
      for (const piece of [args.slice(0, cut), args.slice(cut)]) chunks.push(delta({ tool_calls: [{ index, function: { arguments: piece } }] }));
    });
  } else {
    for (const t of tokens) chunks.push(delta({ content: t }));
  }
  chunks.push(delta(chat ? {} : { content: "" }, finish));
  const options = body.stream_options as { include_usage?: boolean } | undefined;
  if (options?.include_usage) chunks.push(event({ id, object: chunkObject, created: CREATED, model, choices: [], usage }));
  chunks.push("data: [DONE]\n\n");
  streamChunks(res, SSE, chunks, sim.options.tokenIntervalMs, x.dropAfterChunks);
}

function embeddings(x: Exchange, sim: SimState): void {
  const { body, res } = x;
  const model = sim.find(body.model);
  if (!model) return notFound(x, body.model);
  const inputs = Array.isArray(body.input) ? body.input.map(String) : [String(body.input ?? "")];
  const base64 = body.encoding_format === "base64";
  const data = inputs.map((text, index) => {
    const vector = vectorOf(text);
    return { object: "embedding", index, embedding: base64 ? Buffer.from(new Float32Array(vector).buffer).toString("base64") : vector };
  });
  const tokens = countWords(inputs);
  sendJson(res, 200, { object: "list", data, model, usage: { prompt_tokens: tokens, total_tokens: tokens } });
}

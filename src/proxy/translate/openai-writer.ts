import { sse, SSE_DONE } from "./framing.js";
import type { Shape } from "./readers.js";
import { toOpenAIToolCall } from "./tool-calls.js";
import type { Answer, ClientWriter, Ending, Json, ToolCall, TranslateContext, Usage } from "./types.js";
import { defined } from "./values.js";

/** Ollama done reasons OpenAI has a finish reason for; everything else ("stop", "load", …) is "stop". */
const FINISH_REASON: Readonly<Record<string, string>> = { length: "length" };

/** Per shape: the id prefix and `object` names of the answer and of its stream chunks. */
const OBJECTS = {
  chat: { prefix: "chatcmpl", whole: "chat.completion", chunk: "chat.completion.chunk" },
  text: { prefix: "cmpl", whole: "text_completion", chunk: "text_completion" },
} as const;

export function finishReason(ending: Ending): string {
  return ending.toolCalls ? "tool_calls" : (FINISH_REASON[ending.finish ?? ""] ?? "stop");
}

const withTotal = (usage: Usage | undefined) => {
  const u = usage ?? { prompt_tokens: 0, completion_tokens: 0 };
  return { prompt_tokens: u.prompt_tokens, completion_tokens: u.completion_tokens, total_tokens: u.prompt_tokens + u.completion_tokens };
};

/**
 * Answers for an OpenAI client: `chat.completion` / `text_completion` bodies,
 * or SSE chunks — a first chunk with the role, content deltas, tool calls
 * numbered by `index`, a finish chunk, a usage chunk when asked, `[DONE]`.
 */
export function openAIWriter(model: string, shape: Shape, ctx: TranslateContext, includeUsage: boolean): ClientWriter {
  const names = OBJECTS[shape];
  const id = `${names.prefix}-${ctx.requestId}`;
  const head = (object: string) => ({ id, object, created: ctx.created, model });
  // OpenAI's chat chunks carry `usage: null` until the last when usage was asked for; completion chunks have no such field.
  const usageUntilLast = includeUsage && shape === "chat" ? { usage: null } : {};
  const chunk = (choices: Json[]) => sse({ ...head(names.chunk), choices, ...usageUntilLast });
  const delta = (d: Json, finish: string | null = null) =>
    shape === "chat"
      ? chunk([{ index: 0, delta: d, logprobs: null, finish_reason: finish }])
      : chunk([{ text: d.content ?? "", index: 0, logprobs: null, finish_reason: finish }]);
  const numbered = (calls: ToolCall[], first: number) =>
    calls.map((call, i) => ({ index: first + i, ...toOpenAIToolCall(call, call.id ?? `call_${first + i}`) }));

  return {
    contentType: "text/event-stream",
    open: () => (shape === "chat" ? delta({ role: "assistant", content: "" }) : ""),
    text: (content, thinking) => {
      if (shape === "text") return content ? delta({ content }) : "";
      return delta(defined({ content: content || undefined, reasoning_content: thinking || undefined }));
    },
    toolCalls: (calls, first) => (shape === "chat" ? delta({ tool_calls: numbered(calls, first) }) : ""),
    close: (ending) => {
      const last = delta({}, finishReason(ending));
      const usage = includeUsage ? sse({ ...head(names.chunk), choices: [], usage: withTotal(ending.usage) }) : "";
      return last + usage + SSE_DONE;
    },
    error: (message) => sse({ error: { message, type: "server_error", code: "upstream_error" } }),
    whole: (answer) => ({ ...head(names.whole), choices: [wholeChoice(shape, answer)], usage: withTotal(answer.usage) }),
  };
}

function wholeChoice(shape: Shape, answer: Answer): Json {
  const finish_reason = finishReason(answer);
  if (shape === "text") return { text: answer.content, index: 0, logprobs: null, finish_reason };
  const calls = answer.calls.map((call, i) => toOpenAIToolCall(call, call.id ?? `call_${i}`));
  const message = defined({
    role: "assistant",
    content: calls.length > 0 ? answer.content || null : answer.content,
    refusal: null,
    reasoning_content: answer.thinking || undefined,
    tool_calls: calls.length > 0 ? calls : undefined,
  });
  return { index: 0, message, logprobs: null, finish_reason };
}

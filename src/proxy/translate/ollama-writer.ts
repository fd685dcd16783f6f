import { ndjson } from "./framing.js";
import type { Shape } from "./readers.js";
import { toOllamaToolCall } from "./tool-calls.js";
import type { Answer, ClientWriter, Ending, Json, ToolCall, TranslateContext } from "./types.js";
import { defined } from "./values.js";

/** OpenAI finish reasons Ollama has a `done_reason` for; everything else ends as "stop". */
const DONE_REASON: Readonly<Record<string, string>> = { length: "length" };

/**
 * Answers for an Ollama client: NDJSON lines of `/api/chat` (`message`) or
 * `/api/generate` (`response`), ending with one `done: true` line that carries
 * the token counts and durations (nanoseconds; 0 when the server gave none).
 */
export function ollamaWriter(model: string, shape: Shape, ctx: TranslateContext): ClientWriter {
  const createdAt = new Date(ctx.created * 1000).toISOString();

  const line = (done: boolean, content: string, thinking: string, calls: ToolCall[]): Json => {
    const toolCalls = calls.length > 0 ? calls.map(toOllamaToolCall) : undefined;
    const text =
      shape === "chat"
        ? { message: defined({ role: "assistant", content, thinking: thinking || undefined, tool_calls: toolCalls }) }
        : defined({ response: content, thinking: thinking || undefined });
    return { model, created_at: createdAt, ...text, done };
  };

  const final = (ending: Ending, content: string, thinking: string, calls: ToolCall[]): Json => {
    const prompt = ending.timings?.prompt_eval_duration ?? 0;
    const evaluation = ending.timings?.eval_duration ?? 0;
    return {
      ...line(true, content, thinking, calls),
      done_reason: DONE_REASON[ending.finish ?? ""] ?? "stop",
      total_duration: prompt + evaluation,
      load_duration: 0,
      prompt_eval_count: ending.usage?.prompt_tokens ?? 0,
      prompt_eval_duration: prompt,
      eval_count: ending.usage?.completion_tokens ?? 0,
      eval_duration: evaluation,
    };
  };

  return {
    contentType: "application/x-ndjson",
    open: () => "",
    text: (content, thinking) => ndjson(line(false, content, thinking, [])),
    // /api/generate has no tool calls: a server's calls there have nowhere to go.
    toolCalls: (calls) => (shape === "chat" ? ndjson(line(false, "", "", calls)) : ""),
    close: (ending) => ndjson(final(ending, "", "", [])),
    error: (message) => ndjson({ error: message }),
    whole: (answer: Answer) => final(answer, answer.content, answer.thinking, shape === "chat" ? answer.calls : []),
  };
}

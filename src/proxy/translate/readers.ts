import { notAnswer } from "./broken.js";
import { DONE } from "./framing.js";
import { fromOllamaToolCalls, openAIToolCallFragments } from "./tool-calls.js";
import type { AnswerEvent, Json, UpstreamReader } from "./types.js";
import { errorMessageOf, isObject, numberAt, objectAt, stringAt } from "./values.js";

/**
 * Upstream frames → the neutral AnswerEvents. `shape` says where the text
 * lives: a chat message (`message` / `delta`) or plain text (`response` /
 * `text`). A whole non-streamed body is read the same way as one last frame.
 * A frame that is not JSON, or lacks the field every frame of its API has,
 * is `broken`; any other field that is missing or junk reads as empty.
 */
export type Shape = "chat" | "text";

const WHOLE = "a response body";

export function ollamaReader(shape: Shape): UpstreamReader {
  return {
    framing: "ndjson",
    events: (payload) => ollamaEvents(payload, shape, "a line"),
    whole: (payload) => ollamaEvents(payload, shape, WHOLE),
  };
}

export function openAIReader(shape: Shape): UpstreamReader {
  return {
    framing: "sse",
    events: (payload) => openAIEvents(payload, shape, "an event"),
    whole: (payload) => openAIEvents(payload, shape, WHOLE),
  };
}

const broken = (frame: string, payload: unknown, expected: string): AnswerEvent => ({ type: "broken", problem: notAnswer(frame, payload, expected) });

function ollamaEvents(payload: unknown, shape: Shape, frame: string): AnswerEvent[] {
  const error = errorMessageOf(payload);
  if (error !== undefined) return [{ type: "error", message: error }];
  // Ollama writes `done` in every answer line, false until the last.
  if (!isObject(payload) || typeof payload.done !== "boolean") return [broken(frame, payload, "an Ollama answer")];
  const message = objectAt(payload.message);
  const source = shape === "chat" ? message : payload;
  const events = textEvents(stringAt(shape === "chat" ? message.content : payload.response), stringAt(source.thinking));
  const calls = fromOllamaToolCalls(source.tool_calls);
  if (calls.length > 0) events.push({ type: "tool_calls", calls });
  if (payload.done === true) {
    events.push(
      { type: "usage", usage: { prompt_tokens: numberAt(payload.prompt_eval_count), completion_tokens: numberAt(payload.eval_count) } },
      { type: "finish", reason: stringAt(payload.done_reason) || "stop" },
      { type: "end" },
    );
  }
  return events;
}

function openAIEvents(payload: unknown, shape: Shape, frame: string): AnswerEvent[] {
  if (payload === DONE) return [{ type: "end" }];
  const error = errorMessageOf(payload);
  if (error !== undefined) return [{ type: "error", message: error }];
  // Every chunk has `choices` (a last usage-only chunk an empty one); a whole answer has its choice.
  if (!isObject(payload) || !Array.isArray(payload.choices) || (frame === WHOLE && !isObject(payload.choices[0]))) {
    return [broken(frame, payload, "an OpenAI completion")];
  }
  const choice = objectAt(payload.choices[0]);
  const events = shape === "text" ? textEvents(stringAt(choice.text), "") : deltaEvents(objectAt(choice.delta ?? choice.message));
  if (typeof choice.finish_reason === "string") events.push({ type: "finish", reason: choice.finish_reason });
  if (isObject(payload.usage)) {
    const usage = { prompt_tokens: numberAt(payload.usage.prompt_tokens), completion_tokens: numberAt(payload.usage.completion_tokens) };
    events.push({ type: "usage", usage });
  }
  if (isObject(payload.timings)) events.push(timingsEvent(payload.timings));
  return events;
}

function deltaEvents(delta: Json): AnswerEvent[] {
  const events = textEvents(stringAt(delta.content), stringAt(delta.reasoning_content ?? delta.reasoning));
  const fragments = openAIToolCallFragments(delta.tool_calls);
  if (fragments.length > 0) events.push({ type: "tool_fragments", fragments });
  return events;
}

function textEvents(content: string, thinking: string): AnswerEvent[] {
  return content || thinking ? [{ type: "text", content, thinking }] : [];
}

const NS_PER_MS = 1_000_000;

/** llama.cpp server reports `timings` (milliseconds); Ollama clients read nanosecond durations. */
function timingsEvent(timings: Json): AnswerEvent {
  return {
    type: "timings",
    timings: {
      prompt_eval_duration: Math.round(numberAt(timings.prompt_ms) * NS_PER_MS),
      eval_duration: Math.round(numberAt(timings.predicted_ms) * NS_PER_MS),
    },
  };
}

import { TranslationError } from "./errors.js";
import type { Json, ToolCall, ToolCallFragment } from "./types.js";
import { isObject, objectAt, parseJson, stringAt } from "./values.js";

/**
 * Tool calls in their three shapes: Ollama's (arguments an object), OpenAI's
 * (arguments a JSON string, with an id) and OpenAI's streamed fragments
 * (pieces of one call sharing an `index`).
 */

export function fromOllamaToolCalls(calls: unknown): ToolCall[] {
  if (!Array.isArray(calls)) return [];
  return calls.map((raw) => {
    const call = objectAt(raw);
    const fn = objectAt(call.function);
    const id = typeof call.id === "string" && call.id ? call.id : undefined;
    return { id, name: stringAt(fn.name), arguments: objectAt(fn.arguments) };
  });
}

export function toOllamaToolCall(call: ToolCall): Json {
  return call.id ? { id: call.id, function: { name: call.name, arguments: call.arguments } } : { function: { name: call.name, arguments: call.arguments } };
}

export function toOpenAIToolCall(call: ToolCall, id: string): Json {
  return { id, type: "function", function: { name: call.name, arguments: JSON.stringify(call.arguments) } };
}

/** Arguments a client sent: a JSON object (as a string or already parsed), else the client's mistake. */
export function clientArguments(args: unknown, param: string): Json {
  if (isObject(args)) return args;
  if (args === undefined || args === null || (typeof args === "string" && args.trim() === "")) return {};
  const parsed = typeof args === "string" ? parseJson(args) : undefined;
  if (isObject(parsed)) return parsed;
  throw new TranslationError("tool call arguments must be a JSON object", param);
}

/** Arguments a server produced: a model can emit broken JSON, which becomes {} rather than a failed answer. */
export function serverArguments(args: unknown): Json {
  if (isObject(args)) return args;
  return objectAt(typeof args === "string" ? parseJson(args) : undefined);
}

/** Whole OpenAI tool calls (a non-streamed message) read as fragments, so one path joins both. */
export function openAIToolCallFragments(calls: unknown): ToolCallFragment[] {
  if (!Array.isArray(calls)) return [];
  return calls.map((raw, position) => {
    const call = objectAt(raw);
    const fn = objectAt(call.function);
    return {
      index: typeof call.index === "number" ? call.index : position,
      id: typeof call.id === "string" ? call.id : undefined,
      name: typeof fn.name === "string" ? fn.name : undefined,
      arguments: typeof fn.arguments === "string" ? fn.arguments : isObject(fn.arguments) ? JSON.stringify(fn.arguments) : undefined,
    };
  });
}

/** Joins streamed fragments by index; `take` hands out the calls gathered so far, whole. */
export class FragmentAssembler {
  private readonly calls = new Map<number, { id?: string; name: string; args: string }>();

  add(fragments: ToolCallFragment[]): void {
    for (const f of fragments) {
      const entry = this.calls.get(f.index) ?? { name: "", args: "" };
      entry.id ??= f.id || undefined;
      entry.name += f.name ?? "";
      entry.args += f.arguments ?? "";
      this.calls.set(f.index, entry);
    }
  }

  take(): ToolCall[] {
    const calls = [...this.calls.entries()]
      .sort(([a], [b]) => a - b)
      .map(([, c]) => ({ id: c.id, name: c.name, arguments: serverArguments(c.args) }));
    this.calls.clear();
    return calls;
  }
}

/**
 * Ids for a conversation sent to an OpenAI server: Ollama tool calls may have
 * none, and Ollama tool results name the tool instead of the call. Each call
 * gets `call_<n>`; each result takes the oldest unanswered call of its tool.
 */
export class ToolCallIds {
  private next = 0;
  private pending: Array<{ id: string; name: string }> = [];

  issue(call: ToolCall): string {
    const id = call.id ?? `call_${this.next++}`;
    this.pending.push({ id, name: call.name });
    return id;
  }

  answer(toolName: string | undefined, toolCallId: string | undefined): string {
    if (toolCallId) {
      this.pending = this.pending.filter((p) => p.id !== toolCallId);
      return toolCallId;
    }
    const byName = toolName ? this.pending.findIndex((p) => p.name === toolName) : -1;
    const i = byName >= 0 ? byName : this.pending.length > 0 ? 0 : -1;
    return i >= 0 ? this.pending.splice(i, 1)[0].id : `call_${this.next++}`;
  }
}

import { TranslationError } from "./errors.js";
import { fromDataUrl, toDataUrl } from "./images.js";
import { clientArguments, fromOllamaToolCalls, toOllamaToolCall, toOpenAIToolCall, ToolCallIds } from "./tool-calls.js";
import type { Json, ToolCall } from "./types.js";
import { defined, isObject, objectAt, stringAt } from "./values.js";

/** OpenAI roles Ollama knows by another name. */
const ROLE_TO_OLLAMA: Readonly<Record<string, string>> = { developer: "system" };

/** Ollama messages → OpenAI messages: images become content parts, tool calls get ids, tool results find them. */
export function toOpenAIMessages(messages: unknown): Json[] {
  if (!Array.isArray(messages)) return [];
  const ids = new ToolCallIds();
  return messages.map((raw) => {
    const m = objectAt(raw);
    const content = stringAt(m.content);
    if (m.role === "tool") {
      const toolName = stringAt(m.tool_name) || undefined;
      return { role: "tool", tool_call_id: ids.answer(toolName, stringAt(m.tool_call_id) || undefined), content };
    }
    const calls = fromOllamaToolCalls(m.tool_calls);
    if (calls.length > 0) {
      return { role: m.role, content: content || null, tool_calls: calls.map((c) => toOpenAIToolCall(c, ids.issue(c))) };
    }
    return { role: m.role, content: withImages(content, m.images) };
  });
}

/** Text plus Ollama's base64 images → OpenAI content parts (plain text when there are no images). */
export function withImages(content: string, images: unknown): string | Json[] {
  if (!Array.isArray(images) || images.length === 0) return content;
  const parts: Json[] = content ? [{ type: "text", text: content }] : [];
  for (const image of images) parts.push({ type: "image_url", image_url: { url: toDataUrl(String(image)) } });
  return parts;
}

/** OpenAI messages → Ollama messages: parts become text + base64 images, tool results carry the tool's name. */
export function toOllamaMessages(messages: unknown): Json[] {
  if (!Array.isArray(messages)) throw new TranslationError("messages must be an array", "messages");
  const toolNames = new Map<string, string>();
  return messages.map((raw, i) => {
    const m = objectAt(raw);
    const role = ROLE_TO_OLLAMA[stringAt(m.role)] ?? m.role;
    const { text, images } = splitContent(m.content, `messages[${i}].content`);
    const calls = clientToolCalls(m.tool_calls, i);
    for (const call of calls) if (call.id) toolNames.set(call.id, call.name);
    const toolCallId = role === "tool" ? stringAt(m.tool_call_id) || undefined : undefined;
    return defined({
      role,
      content: text,
      thinking: stringAt(m.reasoning_content ?? m.reasoning) || undefined,
      images: images.length > 0 ? images : undefined,
      tool_calls: calls.length > 0 ? calls.map(toOllamaToolCall) : undefined,
      tool_name: role === "tool" ? (toolCallId && toolNames.get(toolCallId)) || stringAt(m.name) || undefined : undefined,
      tool_call_id: toolCallId,
    });
  });
}

function clientToolCalls(calls: unknown, message: number): ToolCall[] {
  if (!Array.isArray(calls)) return [];
  return calls.map((raw, j) => {
    const call = objectAt(raw);
    const fn = objectAt(call.function);
    const param = `messages[${message}].tool_calls[${j}].function.arguments`;
    return { id: stringAt(call.id) || undefined, name: stringAt(fn.name), arguments: clientArguments(fn.arguments, param) };
  });
}

/** Content parts Ollama can carry: text (joined) and inline images. */
function splitContent(content: unknown, param: string): { text: string; images: string[] } {
  if (typeof content === "string") return { text: content, images: [] };
  if (!Array.isArray(content)) return { text: "", images: [] };
  const texts: string[] = [];
  const images: string[] = [];
  for (const raw of content) {
    const part = objectAt(raw);
    if (part.type === "text" || part.type === "refusal") texts.push(stringAt(part.text ?? part.refusal));
    else if (part.type === "image_url") images.push(fromDataUrl(imageUrlOf(part.image_url), param));
    else throw new TranslationError(`an Ollama server cannot take "${String(part.type)}" content parts`, param);
  }
  return { text: texts.join("\n"), images };
}

const imageUrlOf = (value: unknown): string => stringAt(isObject(value) ? value.url : value);

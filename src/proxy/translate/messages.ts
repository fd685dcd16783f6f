import { TranslationError } from "./errors.js";
import { isObject } from "./params.js";

type Json = Record<string, unknown>;

interface OllamaToolCall {
  id?: string;
  function: { name: string; arguments: Json; index?: number };
}

const MAGIC: ReadonlyArray<readonly [prefix: string, mime: string]> = [
  ["iVBORw0KGgo", "image/png"],
  ["/9j/", "image/jpeg"],
  ["R0lGOD", "image/gif"],
  ["UklGR", "image/webp"],
];

export function imageMime(base64: string): string {
  return MAGIC.find(([prefix]) => base64.startsWith(prefix))?.[1] ?? "image/png";
}

/** Ollama messages → OpenAI messages: images become content parts, tool calls get ids, tool results find them. */
export function toOpenAIMessages(messages: unknown[]): Json[] {
  const idsByName = new Map<string, string[]>();
  let lastId: string | undefined;
  let counter = 0;
  return messages.map((raw) => {
    const m = raw as Json;
    const content = typeof m.content === "string" ? m.content : "";
    if (m.role === "tool") {
      const name = typeof m.tool_name === "string" ? m.tool_name : undefined;
      const id = (m.tool_call_id as string | undefined) ?? (name ? idsByName.get(name)?.shift() : undefined) ?? lastId ?? `call_${counter++}`;
      return { role: "tool", tool_call_id: id, content };
    }
    const out: Json = { role: m.role, content: withImages(content, m.images) };
    if (Array.isArray(m.tool_calls) && m.tool_calls.length) {
      out.content = content || null;
      out.tool_calls = (m.tool_calls as OllamaToolCall[]).map((call) => {
        const id = call.id ?? `call_${counter++}`;
        const name = call.function.name;
        idsByName.set(name, [...(idsByName.get(name) ?? []), id]);
        lastId = id;
        return { id, type: "function", function: { name, arguments: JSON.stringify(call.function.arguments ?? {}) } };
      });
    }
    return out;
  });
}

function withImages(content: string, images: unknown): string | Json[] {
  if (!Array.isArray(images) || images.length === 0) return content;
  return [
    { type: "text", text: content },
    ...images.map((img) => ({ type: "image_url", image_url: { url: `data:${imageMime(String(img))};base64,${String(img)}` } })),
  ];
}

/** OpenAI messages → Ollama messages: parts become text + base64 images, tool results carry the tool's name. */
export function toOllamaMessages(messages: unknown[]): Json[] {
  const namesById = new Map<string, string>();
  return messages.map((raw, i) => {
    const m = raw as Json;
    const role = m.role === "developer" ? "system" : m.role;
    const { text, images } = splitContent(m.content, i);
    const out: Json = { role, content: text };
    if (images.length) out.images = images;
    if (Array.isArray(m.tool_calls) && m.tool_calls.length) {
      out.tool_calls = (m.tool_calls as Json[]).map((call, j) => {
        const fn = call.function as Json;
        if (typeof call.id === "string") namesById.set(call.id, String(fn.name));
        return { function: { name: fn.name, arguments: parseArguments(fn.arguments, `messages[${i}].tool_calls[${j}].function.arguments`) } };
      });
    }
    if (role === "tool") {
      const name = typeof m.tool_call_id === "string" ? namesById.get(m.tool_call_id) : undefined;
      if (name) out.tool_name = name;
    }
    return out;
  });
}

function splitContent(content: unknown, index: number): { text: string; images: string[] } {
  if (typeof content === "string") return { text: content, images: [] };
  if (!Array.isArray(content)) return { text: "", images: [] };
  const texts: string[] = [];
  const images: string[] = [];
  for (const part of content as Json[]) {
    if (part.type === "text" && typeof part.text === "string") texts.push(part.text);
    if (part.type === "image_url") {
      const url = String((isObject(part.image_url) ? part.image_url.url : part.image_url) ?? "");
      const comma = url.indexOf(",");
      if (!url.startsWith("data:") || comma === -1) {
        throw new TranslationError("an Ollama server needs images inline as data: URLs (base64), not links", `messages[${index}].content`);
      }
      images.push(url.slice(comma + 1));
    }
  }
  return { text: texts.join("\n"), images };
}

export function parseArguments(args: unknown, param: string): Json {
  if (isObject(args)) return args;
  if (typeof args !== "string" || args.trim() === "") return {};
  try {
    const parsed: unknown = JSON.parse(args);
    if (isObject(parsed)) return parsed;
  } catch {
    // reported below
  }
  throw new TranslationError("tool call arguments must be a JSON object", param);
}

/** Ollama tool calls → OpenAI ones, numbered from `first` (ids and stream indexes). */
export function toOpenAIToolCalls(calls: OllamaToolCall[], first: number): Json[] {
  return calls.map((call, i) => ({
    index: first + i,
    id: call.id ?? `call_${first + i}`,
    type: "function",
    function: { name: call.function.name, arguments: JSON.stringify(call.function.arguments ?? {}) },
  }));
}

/** OpenAI tool calls (arguments as a JSON string) → Ollama ones (an object). */
export function toOllamaToolCalls(calls: Json[]): OllamaToolCall[] {
  return calls.map((call) => {
    const fn = call.function as Json;
    let args: Json = {};
    try {
      args = parseArguments(fn.arguments, "tool_calls");
    } catch {
      args = {};
    }
    return { function: { name: String(fn.name), arguments: args } };
  });
}

import { FlotillaError } from "../kernel/index.js";
import { joinToolName } from "../mcp/index.js";
import type { FunctionTool, InputItem, ResponseRequest } from "./schema.js";

/** A chat completions message, as the gateway's own /v1/chat/completions takes it. */
export interface ChatMessage {
  role: "system" | "user" | "assistant" | "tool";
  content: string | null | Array<Record<string, unknown>>;
  tool_calls?: ChatToolCall[];
  tool_call_id?: string;
}

export interface ChatToolCall {
  id: string;
  type: "function";
  function: { name: string; arguments: string };
}

export interface ChatTool {
  type: "function";
  function: { name: string; description?: string; parameters?: Record<string, unknown>; strict?: boolean };
}

/** A Responses output item as this gateway makes them. */
export type OutputItem =
  | { id: string; type: "message"; status: "completed" | "incomplete"; role: "assistant"; content: Array<{ type: "output_text"; text: string; annotations: []; logprobs: [] }> }
  | { id: string; type: "function_call"; status: "completed"; call_id: string; name: string; arguments: string }
  | { id: string; type: "mcp_call"; status: "completed" | "failed"; server_label: string; name: string; arguments: string; output: string | null; error: string | null }
  | { id: string; type: "mcp_list_tools"; server_label: string; tools: Array<{ name: string; description: string | null; input_schema: unknown; annotations: null }> };

const textOf = (content: InputItem["content"]): string =>
  typeof content === "string" ? content : (content ?? []).map((p) => p.text ?? p.refusal ?? "").join("");

/** A message's content for chat: plain text, or parts when it carries images. */
function chatContent(content: InputItem["content"]): ChatMessage["content"] {
  if (typeof content === "string" || content === undefined) return content ?? "";
  if (!content.some((p) => p.type === "input_image")) return textOf(content);
  return content.map((p) => (p.type === "input_image" ? { type: "image_url", image_url: { url: p.image_url } } : { type: "text", text: p.text ?? "" }));
}

/** The request's input as chat messages: messages by role, function calls and their outputs as tool calls and tool messages. */
export function inputMessages(input: ResponseRequest["input"]): ChatMessage[] {
  if (input === undefined) return [];
  if (typeof input === "string") return [{ role: "user", content: input }];
  const messages: ChatMessage[] = [];
  input.forEach((item, i) => {
    const type = item.type ?? "message";
    if (type === "message") {
      if (!item.role) throw new FlotillaError("invalid_request", `input[${i}].role is required for a message`, { param: `input[${i}].role` });
      messages.push({ role: item.role === "developer" ? "system" : item.role, content: item.role === "assistant" ? textOf(item.content) : chatContent(item.content) });
    } else if (type === "function_call" || type === "mcp_call") {
      if (!item.call_id && type === "function_call") throw new FlotillaError("invalid_request", `input[${i}].call_id is required`, { param: `input[${i}].call_id` });
      const call: ChatToolCall = { id: item.call_id ?? String(item.id), type: "function", function: { name: type === "mcp_call" ? joinToolName(String(item.server_label), String(item.name)) : String(item.name), arguments: item.arguments ?? "{}" } };
      const last = messages[messages.length - 1];
      if (last?.role === "assistant" && last.tool_calls && !last.content) last.tool_calls.push(call);
      else messages.push({ role: "assistant", content: null, tool_calls: [call] });
      if (type === "mcp_call") messages.push({ role: "tool", tool_call_id: call.id, content: String(item.output ?? item.error ?? "") });
    } else if (type === "function_call_output") {
      if (!item.call_id) throw new FlotillaError("invalid_request", `input[${i}].call_id is required`, { param: `input[${i}].call_id` });
      messages.push({ role: "tool", tool_call_id: item.call_id, content: typeof item.output === "string" ? item.output : JSON.stringify(item.output ?? "") });
    }
    // Reasoning and other items the fleet's models cannot read are left out.
  });
  return messages;
}

export function functionTools(tools: FunctionTool[]): ChatTool[] {
  return tools.map((t) => ({
    type: "function",
    function: { name: t.name, ...(t.description ? { description: t.description } : {}), ...(t.parameters ? { parameters: t.parameters } : {}), ...(t.strict ? { strict: true } : {}) },
  }));
}

/** tool_choice in chat's terms. */
export function chatToolChoice(choice: unknown): unknown {
  if (choice === undefined || typeof choice === "string") return choice;
  const c = choice as { type?: string; name?: string; server_label?: string };
  if (c.type === "function" && c.name) return { type: "function", function: { name: c.name } };
  if (c.type === "mcp" && c.server_label && c.name) return { type: "function", function: { name: joinToolName(c.server_label, c.name) } };
  return "auto";
}

/** text.format in chat's terms (response_format). */
export function chatResponseFormat(format: Record<string, unknown> | undefined): unknown {
  if (!format || format.type === "text") return undefined;
  if (format.type === "json_object") return { type: "json_object" };
  if (format.type === "json_schema") return { type: "json_schema", json_schema: { name: format.name ?? "response", schema: format.schema, ...(format.strict ? { strict: true } : {}) } };
  throw new FlotillaError("invalid_request", `text.format.type "${String(format.type)}" is not one of text, json_object, json_schema`, { param: "text.format.type" });
}

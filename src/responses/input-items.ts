import { randomUUID } from "node:crypto";
import { FlotillaError } from "../kernel/index.js";
import type { InputItem, InputItemsQuery, ResponseRequest } from "./schema.js";

/** How OpenAI's item ids begin, by item type. */
const ID_PREFIXES: Record<string, string> = { message: "msg", function_call: "fc", function_call_output: "fco", mcp_call: "mcp", mcp_list_tools: "mcpl", reasoning: "rs" };

const newId = (type: string) => `${ID_PREFIXES[type] ?? "item"}_${randomUUID().replace(/-/g, "")}`;

/**
 * The request's input as items, each with an id (a string is one user
 * message): kept with the response, so `input_items` lists the same ids on
 * every page. Read as chat messages, they say what the input said.
 */
export function withItemIds(input: ResponseRequest["input"]): InputItem[] {
  if (input === undefined) return [];
  if (typeof input === "string") return [{ id: newId("message"), type: "message", role: "user", content: [{ type: "input_text", text: input }] }];
  return input.map((item) => (typeof item.id === "string" && item.id !== "" ? item : { ...item, id: newId(item.type ?? "message") }));
}

/** An input item as the API lists it: typed, a message's content as parts, with a status. */
function itemView(item: InputItem): Record<string, unknown> {
  const type = item.type ?? "message";
  if (type !== "message") return { ...item, type };
  const content = typeof item.content === "string" ? [{ type: item.role === "assistant" ? "output_text" : "input_text", text: item.content }] : (item.content ?? []);
  return { ...item, type, status: (item as { status?: unknown }).status ?? "completed", content };
}

/** One page of a response's input items, in OpenAI's list shape. */
export function inputItemsPage(items: InputItem[], query: InputItemsQuery) {
  const ordered = query.order === "asc" ? items : [...items].reverse();
  let start = 0;
  if (query.after !== undefined) {
    const at = ordered.findIndex((item) => item.id === query.after);
    if (at < 0) throw new FlotillaError("invalid_request", `no input item "${query.after}" in this response`, { param: "after" });
    start = at + 1;
  }
  const page = ordered.slice(start, start + query.limit);
  return {
    object: "list" as const,
    data: page.map(itemView),
    first_id: page[0]?.id ?? null,
    last_id: page.at(-1)?.id ?? null,
    has_more: start + page.length < ordered.length,
  };
}

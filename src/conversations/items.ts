import { FlotillaError, unixSeconds } from "../kernel/index.js";
import type { ConversationItemRow, NewItemRow } from "../store/index.js";
import { newId } from "./ids.js";
import type { ItemInput, ItemView } from "./schema.js";

type Part = Record<string, unknown>;
type Body = Record<string, unknown> & { type: string };

/** A conversation item as the API answers it: OpenAI's item, with Jan's `object` and `created_at`. */
export function itemView(row: ConversationItemRow): ItemView {
  const { type, ...rest } = JSON.parse(row.body) as Body;
  return { id: row.id, object: "conversation.item", type, ...rest, created_at: unixSeconds(row.created_at) };
}

/** A new item's row from its body. */
export function itemRow(body: Body): NewItemRow {
  const role = typeof body.role === "string" ? body.role : null;
  const callId = typeof body.call_id === "string" ? body.call_id : null;
  return { id: newId("msg"), type: body.type, role, call_id: callId, body: JSON.stringify(body) };
}

/** Text as message content parts: the user's input_text, the assistant's output_text. */
export function textParts(role: string, text: string): Part[] {
  return [role === "assistant" ? { type: "output_text", text, annotations: [] } : { type: "input_text", text }];
}

/**
 * An item given to the API as its body to keep: a message's text content
 * becomes parts, each type's required fields are checked, and any id, object
 * or time given is dropped (the gateway gives its own).
 */
export function itemBody(item: ItemInput, at: string): Body {
  const { id: _id, object: _object, created_at: _created, type = "message", ...rest } = item as ItemInput & { id?: unknown; object?: unknown; created_at?: unknown };
  const need = (field: string, ok: boolean) => {
    if (!ok) throw new FlotillaError("invalid_request", `a ${type} item needs ${field}`, { param: `${at}.${field}` });
  };
  if (type === "message") {
    need("role", rest.role !== undefined);
    need("content", rest.content !== undefined);
    const content = typeof rest.content === "string" ? textParts(rest.role as string, rest.content) : rest.content;
    return { type, ...rest, content, status: rest.status ?? "completed" };
  }
  if (type === "function_call") {
    need("call_id", rest.call_id !== undefined);
    need("name", typeof rest.name === "string" && rest.name.length > 0);
    return { type, ...rest, arguments: rest.arguments ?? "{}", status: rest.status ?? "completed" };
  }
  if (type === "function_call_output") {
    need("call_id", rest.call_id !== undefined);
    need("output", rest.output !== undefined);
  }
  return { type, ...rest };
}

/** A message's parts without images (a share made with include_images: false). */
export function withoutImages(view: ItemView): ItemView {
  if (!Array.isArray(view.content)) return view;
  return { ...view, content: (view.content as Part[]).filter((p) => !isImage(p)) };
}

export const isImage = (part: Part) => part.type === "input_image" || part.type === "image" || part.type === "image_url";

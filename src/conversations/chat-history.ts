import { FlotillaError } from "../kernel/index.js";
import { MAIN_BRANCH, type ConversationItemRow, type Store } from "../store/index.js";
import { editBranchName } from "./branches.js";
import { newId } from "./ids.js";
import { isImage, itemRow, itemView, textParts } from "./items.js";
import type { ItemView } from "./schema.js";

type Part = Record<string, unknown>;

export interface ChatToolCall {
  id: string;
  type: "function";
  function: { name: string; arguments: string };
}

/** An OpenAI chat completions message. */
export interface ChatMessage {
  role: "user" | "assistant" | "system" | "developer" | "tool";
  content: string | null | Part[];
  tool_calls?: ChatToolCall[];
  tool_call_id?: string;
}

/** A chat message to keep in a conversation: the user's as sent, or the assistant's answer (text and/or tool calls) with its status. */
export type NewChatItem = ChatMessage & {
  status?: "completed" | "incomplete" | "in_progress" | "failed";
  /** The model that gave an answer, kept on its message (a regenerate asks it again). */
  model?: string;
};

export interface LoadedHistory {
  conversationId: string;
  /** The instruction of the conversation's project, when it is in one: the chat's system message. */
  instruction?: string;
  /** The conversation's items (MAIN), oldest first, as chat messages. */
  messages: ChatMessage[];
}

/** What a chat in the conversation sends before its new messages: the project's instruction as the first system message (Jan's), then the items. */
export function historyMessages(loaded: LoadedHistory): ChatMessage[] {
  return loaded.instruction ? [{ role: "system", content: loaded.instruction }, ...loaded.messages] : loaded.messages;
}

/** What a regenerate answers (Jan's shape): the new MAIN, with the old one kept as `old_main_backup`. */
export interface ForkAnswer {
  branch: "MAIN";
  old_main_backup: string;
  branch_created: true;
}

/**
 * A conversation as chat history, for chat completions made in one: read it
 * as messages, append what was said, and cut it back for a regenerate.
 */
export class ChatHistory {
  constructor(private readonly store: Pick<Store, "conversations" | "projects">) {}

  async load(owner: string, conversationId: string, options: { upToItemId?: string } = {}): Promise<LoadedHistory> {
    const conversation = await this.conversation(owner, conversationId);
    const upTo = options.upToItemId === undefined ? undefined : (await this.mainItem(conversationId, options.upToItemId)).position;
    const rows = await this.store.conversations.allItems(conversationId, MAIN_BRANCH, upTo);
    const project = conversation.project_id ? await this.store.projects.get(owner, conversation.project_id) : undefined;
    return { conversationId, ...(project?.instruction ? { instruction: project.instruction } : {}), messages: chatMessages(rows) };
  }

  /** Appends the messages' items in order (an assistant message with tool calls makes a message and function_call items). */
  async append(owner: string, conversationId: string, items: readonly NewChatItem[]): Promise<ItemView[]> {
    const rows = await this.store.conversations.append(owner, conversationId, items.flatMap(chatItemBodies).map(itemRow), Date.now());
    if (!rows) throw notFound(conversationId);
    return rows.map(itemView);
  }

  /** Jan's regenerate: MAIN keeps the items up to and including `itemId`, those after it stay in the backup branch answered. */
  async dropAfter(owner: string, conversationId: string, itemId: string): Promise<ForkAnswer> {
    await this.conversation(owner, conversationId);
    const item = await this.mainItem(conversationId, itemId);
    const now = Date.now();
    const backup = await this.store.conversations.fork(owner, conversationId, { from: item.position + 1, backup: editBranchName(now), copyId: () => newId("msg") }, now);
    if (backup === undefined) throw notFound(conversationId);
    return { branch: "MAIN", old_main_backup: backup, branch_created: true };
  }

  private async conversation(owner: string, id: string) {
    const row = await this.store.conversations.get(owner, id);
    if (!row) throw notFound(id);
    return row;
  }

  private async mainItem(conversationId: string, itemId: string): Promise<ConversationItemRow> {
    const item = await this.store.conversations.item(conversationId, itemId);
    if (!item || item.branch !== MAIN_BRANCH) throw new FlotillaError("not_found", `no item with id "${itemId}" in conversation "${conversationId}"`, { param: "item_id" });
    return item;
  }
}

const notFound = (id: string) => new FlotillaError("not_found", `no conversation with id "${id}"`, { param: "conversation" });

/** A chat message's items: a message for its content, a function_call per tool call, or a tool's function_call_output. */
export function chatItemBodies(message: NewChatItem): Array<Record<string, unknown> & { type: string }> {
  const status = message.status ?? "completed";
  if (message.role === "tool") return [{ type: "function_call_output", call_id: message.tool_call_id ?? "", output: textOf(message.content), status }];
  const bodies: Array<Record<string, unknown> & { type: string }> = [];
  const content = chatToItemContent(message.role, message.content);
  if (content.length > 0 || !message.tool_calls?.length) bodies.push({ type: "message", role: message.role, content, status, ...(message.model ? { model: message.model } : {}) });
  for (const call of message.tool_calls ?? []) bodies.push({ type: "function_call", call_id: call.id, name: call.function.name, arguments: call.function.arguments, status });
  return bodies;
}

function chatToItemContent(role: string, content: ChatMessage["content"]): Part[] {
  if (content === null || content === undefined) return [];
  if (typeof content === "string") return textParts(role, content);
  return content.map((part) => {
    if (part.type === "text") return textParts(role, String(part.text ?? ""))[0];
    if (part.type === "image_url") {
      const image = (typeof part.image_url === "string" ? { url: part.image_url } : part.image_url) as { url?: string; detail?: string } | undefined;
      return { type: "input_image", image_url: image?.url ?? "", detail: image?.detail ?? "auto" };
    }
    return part;
  });
}

/** Items as chat messages: function_call items join the assistant message before them as tool_calls; other item types are left out. */
export function chatMessages(rows: readonly ConversationItemRow[]): ChatMessage[] {
  const messages: ChatMessage[] = [];
  for (const row of rows) {
    const item = JSON.parse(row.body) as Record<string, unknown>;
    if (row.type === "message") messages.push({ role: item.role as ChatMessage["role"], content: itemToChatContent(item.content) });
    else if (row.type === "function_call") {
      const call: ChatToolCall = { id: String(item.call_id), type: "function", function: { name: String(item.name), arguments: String(item.arguments ?? "{}") } };
      const last = messages.at(-1);
      if (last?.role === "assistant") (last.tool_calls ??= []).push(call);
      else messages.push({ role: "assistant", content: null, tool_calls: [call] });
    } else if (row.type === "function_call_output") messages.push({ role: "tool", tool_call_id: String(item.call_id), content: textOf(item.output as ChatMessage["content"]) });
  }
  return messages;
}

/** Text parts become text; with an image among them, OpenAI chat parts (text and image_url). */
function itemToChatContent(content: unknown): ChatMessage["content"] {
  if (typeof content === "string") return content;
  const parts = (Array.isArray(content) ? content : []) as Part[];
  if (!parts.some(isImage)) return parts.map(partText).join("");
  return parts.map((p) => (isImage(p) ? { type: "image_url", image_url: imageOf(p) } : { type: "text", text: partText(p) }));
}

const partText = (p: Part) => String(p.text ?? p.refusal ?? "");

function imageOf(part: Part): { url: string; detail?: string } {
  const given = part.type === "image" ? part.image : part.image_url;
  const url = typeof given === "string" ? given : String((given as { url?: string } | undefined)?.url ?? part.file_id ?? "");
  const detail = part.detail ?? (given as { detail?: string } | undefined)?.detail;
  return typeof detail === "string" ? { url, detail } : { url };
}

function textOf(content: ChatMessage["content"] | undefined): string {
  if (typeof content === "string") return content;
  return (content ?? []).map(partText).join("");
}

import type { FastifyBaseLogger, FastifyRequest } from "fastify";
import type { ChatExtension, PreparedChat } from "../proxy/index.js";
import type { Store } from "../store/index.js";
import { ownerFor } from "./access.js";
import { ChatAnswerTap, type ChatAnswer, type TurnMetadata } from "./answer-tap.js";
import { ChatHistory, chatItemBodies, historyMessages, type ChatMessage, type NewChatItem } from "./chat-history.js";
import { orderedId } from "./ids.js";

/** Jan cuts a title made from the first message at this many characters. */
const TITLE_CHARS = 60;

type ConversationField = string | { id?: string };

/**
 * Jan's chat completions in a stored conversation: `conversation` (an id,
 * `{id}`, or `{}` for a new one) puts its project's instruction and its items
 * before the request's messages; with `store` (default true) the new messages
 * and the answer are appended once the answer is whole, the conversation is
 * titled from its first message, and the answer carries Jan's metadata
 * (`conversation_id`, `conversation_created`, `conversation_title`,
 * `ask_item_id`, `completion_item_id`).
 */
export class ConversationChats implements ChatExtension {
  private readonly history: ChatHistory;

  constructor(
    private readonly store: Pick<Store, "conversations" | "projects">,
    private readonly log: Pick<FastifyBaseLogger, "warn">,
  ) {
    this.history = new ChatHistory(store);
  }

  prepare(req: FastifyRequest, body: Record<string, unknown>): Promise<PreparedChat> | undefined {
    if (body.conversation === undefined) return undefined;
    return this.turn(ownerFor(req), body);
  }

  private async turn(owner: string, body: Record<string, unknown>): Promise<PreparedChat> {
    const { conversation, store, store_reasoning: _reasoning, ...request } = body;
    const given = conversation as ConversationField;
    const id = typeof given === "string" ? given : given.id;
    const created = id === undefined;
    // A new conversation is made only once its first answer is whole: a first turn that fails leaves none behind.
    const conversationId = id ?? orderedId("conv", Date.now());
    const history = created ? [] : historyMessages(await this.history.load(owner, conversationId));
    const asked = request.messages as ChatMessage[];
    const messages = [...history, ...asked];
    const keep = store !== false;
    const tap = new ChatAnswerTap(
      request.stream === true,
      (answer) => this.keep(owner, conversationId, created, keep ? asked : undefined, answer),
      (err) => this.log.warn({ err, conversation: conversationId }, "the answer reached the client but its turn was not kept"),
    );
    return { body: { ...request, messages }, tap, session: conversationId };
  }

  private async create(owner: string, id: string): Promise<void> {
    const now = Date.now();
    await this.store.conversations.insert({ id, owner, title: null, project_id: null, referrer: null, metadata: "{}", next_position: 0, created_at: now, updated_at: now }, []);
  }

  /** Appends the turn (unless `asked` is undefined: store false) and titles an untitled conversation from its first message. */
  private async keep(owner: string, conversationId: string, created: boolean, asked: ChatMessage[] | undefined, answer: ChatAnswer): Promise<TurnMetadata> {
    if (created) await this.create(owner, conversationId);
    const metadata: TurnMetadata = { conversation_id: conversationId, conversation_created: created };
    if (asked) {
      const stored = await this.history.append(owner, conversationId, [...asked, answerItem(answer)]);
      const askCount = asked.flatMap(chatItemBodies).length;
      metadata.ask_item_id = [...stored.slice(0, askCount)].reverse().find((item) => item.type === "message" && item.role === "user")?.id ?? null;
      metadata.completion_item_id = stored[askCount]?.id ?? null;
    }
    metadata.conversation_title = await this.title(owner, conversationId, asked);
    return metadata;
  }

  private async title(owner: string, conversationId: string, asked: ChatMessage[] | undefined): Promise<string | null> {
    const row = await this.store.conversations.get(owner, conversationId);
    if (!row || row.title || !asked) return row?.title ?? null;
    const title = titleFrom(asked);
    await this.store.conversations.change(owner, conversationId, { title }, Date.now());
    return title;
  }
}

/** The answer as an item to keep: incomplete when the stream stopped before its finish. */
export function answerItem(answer: ChatAnswer): NewChatItem {
  const calls = answer.toolCalls.length > 0;
  return {
    role: "assistant",
    // An answer that only calls tools is kept as its function_call items, with no empty message before them.
    content: answer.content === "" && calls ? null : answer.content,
    ...(calls ? { tool_calls: answer.toolCalls } : {}),
    status: answer.complete ? "completed" : "incomplete",
    ...(answer.model ? { model: answer.model } : {}),
  };
}

/** Jan's default title: the first user message's text, whitespace folded, cut at a word near 60 characters. */
export function titleFrom(messages: readonly ChatMessage[]): string {
  for (const message of messages) {
    if (message.role !== "user") continue;
    const text = (typeof message.content === "string" ? message.content : (message.content ?? []).map((p) => (typeof p.text === "string" ? p.text : "")).join(" "))
      .replace(/\s+/g, " ")
      .trim();
    if (text === "") continue;
    if (text.length <= TITLE_CHARS) return text;
    const cut = text.slice(0, TITLE_CHARS);
    const space = cut.lastIndexOf(" ");
    return `${space > TITLE_CHARS / 2 ? cut.slice(0, space) : cut}…`;
  }
  return "New Conversation";
}

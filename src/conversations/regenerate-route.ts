import { Type, type Static } from "@sinclair/typebox";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { FlotillaError } from "../kernel/index.js";
import { forwardChat, type ProxyDeps } from "../proxy/index.js";
import { MAIN_BRANCH, type ConversationItemRow, type Store } from "../store/index.js";
import { myConversation, ownerFor } from "./access.js";
import { ChatAnswerTap } from "./answer-tap.js";
import { ChatHistory, historyMessages } from "./chat-history.js";
import { answerItem } from "./chat-turn.js";

const RegenerateParams = Type.Object({ conv_id: Type.String({ minLength: 1, maxLength: 128 }), item_id: Type.String({ minLength: 1, maxLength: 128 }) });
const RegenerateRequest = Type.Object(
  {
    model: Type.Optional(Type.String({ minLength: 1, maxLength: 256, description: "the model to answer with; by default the one that gave the answer regenerated" })),
    temperature: Type.Optional(Type.Number({ minimum: 0, maximum: 2 })),
    max_tokens: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000 })),
    stream: Type.Optional(Type.Boolean({ description: "Flotilla: stream the new answer as chat completion chunks; Jan's fields come in the last event before [DONE]" })),
  },
  { additionalProperties: false },
);
type RegenerateRequest = Static<typeof RegenerateRequest>;

/**
 * Jan's regenerate: the answer to a user message is asked again. As in Jan,
 * MAIN becomes the items up to that user message and the old MAIN is kept as
 * a backup branch (`old_main_backup`); then the model runs on the fleet and
 * its answer is appended to the new MAIN. The answer is Jan's regenerate
 * response with `completion_item_id` and the `completion`; streamed, the
 * chunks go out as they come and Jan's fields follow in the metadata event.
 */
export function registerRegenerateRoute(app: FastifyInstance, store: Store, proxy: ProxyDeps): void {
  const history = new ChatHistory(store);
  app.post(
    "/v1/conversations/:conv_id/items/:item_id/regenerate",
    {
      schema: { summary: "Answer a user message again, on a new MAIN branch (the old one kept as a backup)", tags: ["conversations"], params: RegenerateParams, body: Type.Optional(RegenerateRequest) },
      config: { auth: "inference" },
    },
    async function regenerate(req, reply) {
      const { conv_id: conversationId, item_id: itemId } = req.params as Static<typeof RegenerateParams>;
      const options = (req.body ?? {}) as RegenerateRequest;
      const owner = ownerFor(req);
      await myConversation(store, req, conversationId);
      const { asked, model } = await askedItem(store, conversationId, itemId);
      const chosen = options.model ?? model;
      if (!chosen) throw new FlotillaError("invalid_request", "no model is known for this answer: name one in `model`", { param: "model" });
      const fork = await history.dropAfter(owner, conversationId, asked.id);
      const loaded = await history.load(owner, conversationId);
      const messages = historyMessages(loaded);
      const streamed = options.stream === true;
      const tap = new ChatAnswerTap(
        streamed,
        async (answer) => {
          const [item] = await history.append(owner, conversationId, [{ ...answerItem(answer), model: answer.model ?? chosen }]);
          return { ...fork, user_item_id: asked.id, conversation_id: conversationId, completion_item_id: item?.id ?? null };
        },
        (err) => req.log.warn({ err, conversation: conversationId }, "the regenerated answer reached the client but was not kept"),
        (completion, metadata) => ({ ...metadata, completion }),
      );
      const body = { model: chosen, messages, stream: streamed, ...pick(options, "temperature", "max_tokens") };
      return forwardChat(proxy, { body, tap, session: conversationId }, req as FastifyRequest, reply);
    },
  );
}

/**
 * The user message whose answer is asked again: the item itself when it is
 * one, else the last user message before it (Jan regenerates from the
 * assistant's item); with the model that answered it, when the store knows.
 */
async function askedItem(store: Pick<Store, "conversations">, conversationId: string, itemId: string): Promise<{ asked: ConversationItemRow; model?: string }> {
  const item = await store.conversations.item(conversationId, itemId);
  if (!item || item.branch !== MAIN_BRANCH) throw new FlotillaError("not_found", `no item with id "${itemId}" in conversation "${conversationId}"`, { param: "item_id" });
  const rows = await store.conversations.allItems(conversationId, MAIN_BRANCH);
  const at = rows.findIndex((row) => row.id === item.id);
  const asked = rows.slice(0, at + 1).reverse().find((row) => row.type === "message" && row.role === "user");
  if (!asked) throw new FlotillaError("invalid_request", `no user message at or before item "${itemId}" to answer again`, { param: "item_id" });
  const answered = rows.slice(rows.indexOf(asked) + 1).find((row) => row.type === "message" && row.role === "assistant");
  const model = answered ? (JSON.parse(answered.body) as { model?: unknown }).model : undefined;
  return { asked, model: typeof model === "string" ? model : undefined };
}

function pick<T extends object, K extends keyof T>(from: T, ...keys: K[]): Partial<Pick<T, K>> {
  const out: Partial<Pick<T, K>> = {};
  for (const key of keys) if (from[key] !== undefined) out[key] = from[key];
  return out;
}

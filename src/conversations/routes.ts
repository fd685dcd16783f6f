import { Type } from "@sinclair/typebox";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { FlotillaError } from "../kernel/index.js";
import { MAIN_BRANCH, type ConversationChange, type Store } from "../store/index.js";
import { conversationPage, conversationView, myConversation, myProject, ownerFor } from "./access.js";
import { orderedId } from "./ids.js";
import { itemBody, itemRow, itemView } from "./items.js";
import { ConversationList, ConversationListQuery, ConversationPatch, ConvParams, ConversationView, Deleted, NewConversation } from "./schema.js";

const tags = ["conversations"];
const auth = { auth: "inference" as const };
const BulkDelete = Type.Object({ ids: Type.Array(Type.String({ minLength: 1, maxLength: 128 }), { minItems: 1, maxItems: 100 }) }, { additionalProperties: true });
const DeletedCount = Type.Object({ deleted_count: Type.Integer(), deleted_ids: Type.Optional(Type.Array(Type.String())) });

/** Seed 002's conversations: each caller's own, listed newest first a page at a time; another's is a 404. */
export function registerConversationCrud(app: FastifyInstance, store: Store): void {
  app.get(
    "/v1/conversations",
    { schema: { summary: "The caller's conversations, newest first, a page at a time (after: the last id of the page before)", tags, querystring: ConversationListQuery, response: { 200: ConversationList } }, config: auth },
    async function listConversations(req) {
      const query = req.query as ConversationListQuery;
      return conversationPage(store, ownerFor(req), query, query.project_id);
    },
  );
  app.post(
    "/v1/conversations",
    { schema: { summary: "Create a conversation, with up to 20 first items", tags, body: NewConversation, response: { 200: ConversationView } }, config: auth },
    async function createConversation(req) {
      const body = req.body as NewConversation;
      if (body.project_id) await myProject(store, req, body.project_id, "project_id");
      const items = (body.items ?? []).map((item, i) => itemRow(itemBody(item, `items[${i}]`)));
      const now = Date.now();
      const row = { id: orderedId("conv", now), owner: ownerFor(req), title: body.title ?? null, project_id: body.project_id || null, referrer: body.referrer ?? null, metadata: JSON.stringify(body.metadata ?? {}), next_position: 0, created_at: now, updated_at: now };
      const stored = await store.conversations.insert(row, items);
      return conversationView(row, stored.map(itemView));
    },
  );
  app.get(
    "/v1/conversations/:conv_id",
    { schema: { summary: "A conversation, with its items oldest first", tags, params: ConvParams, response: { 200: ConversationView } }, config: auth },
    async function getConversation(req) {
      const row = await myConversation(store, req, (req.params as ConvParams).conv_id);
      return conversationView(row, (await store.conversations.allItems(row.id, MAIN_BRANCH)).map(itemView));
    },
  );
  const update = async function updateConversation(req: FastifyRequest) {
    const row = await myConversation(store, req, (req.params as ConvParams).conv_id);
    const body = req.body as ConversationPatch;
    if (body.project_id) await myProject(store, req, body.project_id, "project_id");
    const change: ConversationChange = {
      ...(body.title !== undefined ? { title: body.title } : {}),
      ...(body.project_id !== undefined ? { project_id: body.project_id || null } : {}),
      // Metadata is replaced whole, as OpenAI and Jan do.
      ...(body.metadata !== undefined ? { metadata: JSON.stringify(body.metadata ?? {}) } : {}),
    };
    return conversationView((await store.conversations.change(row.owner, row.id, change, Date.now())) ?? row);
  };
  const patchSchema = { summary: "Change a conversation's title, project or metadata (metadata is replaced whole)", tags, params: ConvParams, body: ConversationPatch, response: { 200: ConversationView } };
  app.patch("/v1/conversations/:conv_id", { schema: patchSchema, config: auth }, update);
  // Jan Server's own handler updates with POST, as OpenAI's API does.
  app.post("/v1/conversations/:conv_id", { schema: { ...patchSchema, summary: "Change a conversation (OpenAI's and Jan's POST form of PATCH)" }, config: auth }, update);
  app.delete(
    "/v1/conversations/:conv_id",
    { schema: { summary: "Delete a conversation, its items and its shares", tags, params: ConvParams, response: { 200: Deleted("conversation.deleted") } }, config: auth },
    async function deleteConversation(req) {
      const row = await myConversation(store, req, (req.params as ConvParams).conv_id);
      await store.conversations.remove(row.owner, [row.id]);
      return { id: row.id, object: "conversation.deleted" as const, deleted: true };
    },
  );
  app.post(
    "/v1/conversations/bulk-delete",
    { schema: { summary: "Delete several of the caller's conversations; ids not theirs are passed over", tags, body: BulkDelete, response: { 200: DeletedCount } }, config: auth },
    async function bulkDeleteConversations(req) {
      const deleted = await store.conversations.remove(ownerFor(req), (req.body as { ids: string[] }).ids);
      return { deleted_count: deleted.length, deleted_ids: deleted };
    },
  );
  app.delete(
    "/v1/conversations",
    { schema: { summary: "Delete all of the caller's conversations (Jan's delete-all)", tags, response: { 200: DeletedCount } }, config: auth },
    async function deleteAllConversations(req) {
      return { deleted_count: (await store.conversations.remove(ownerFor(req), undefined)).length };
    },
  );
}

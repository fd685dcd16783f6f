import { Type, type Static } from "@sinclair/typebox";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { FlotillaError } from "../kernel/index.js";
import { MAIN_BRANCH, type ConversationRow, type Store } from "../store/index.js";
import { conversationView, myConversation, pageOf } from "./access.js";
import { editBranchName, mainBranchView } from "./branches.js";
import { newId } from "./ids.js";
import { itemBody, itemRow, itemView, textParts } from "./items.js";
import { BranchView, ConversationView, ConvParams, ItemInput, ItemList, ItemListQuery, ItemParams, ItemView } from "./schema.js";

const tags = ["conversations"];
const auth = { auth: "inference" as const };
const NewItems = Type.Object({ items: Type.Array(ItemInput, { minItems: 1, maxItems: 20 }) }, { additionalProperties: true });
const CallParams = Type.Object({ conv_id: Type.String({ minLength: 1, maxLength: 128 }), call_id: Type.String({ minLength: 1, maxLength: 256 }) });
const Edit = Type.Object(
  {
    content: Type.String({ minLength: 1, maxLength: 10_000_000 }),
    regenerate: Type.Optional(Type.Boolean({ description: "Jan's flag for its client; the new answer comes from POST …/regenerate" })),
  },
  { additionalProperties: true },
);
const ForkAnswer = { branch: Type.Literal("MAIN"), old_main_backup: Type.String(), branch_created: Type.Boolean(), new_branch: BranchView };
const Edited = Type.Object({ ...ForkAnswer, user_item: ItemView });
const ItemDeleted = Type.Composite([Type.Omit(ConversationView, ["items"]), Type.Object({ ...ForkAnswer, deleted: Type.Boolean() })]);

/** A MAIN item of the conversation, or a 404 naming item_id. */
async function mainItem(store: Store, conversation: ConversationRow, itemId: string) {
  const item = await store.conversations.item(conversation.id, itemId);
  if (!item || item.branch !== MAIN_BRANCH) throw new FlotillaError("not_found", `no item with id "${itemId}" in conversation "${conversation.id}"`, { param: "item_id" });
  return item;
}

/** A conversation's items (OpenAI's item routes), and Jan's edit, delete-as-a-branch and lookup by call_id. */
export function registerItemRoutes(app: FastifyInstance, store: Store): void {
  app.get(
    "/v1/conversations/:conv_id/items",
    { schema: { summary: "A conversation's items, newest first by default, a page at a time", tags, params: ConvParams, querystring: ItemListQuery, response: { 200: ItemList } }, config: auth },
    async function listItems(req) {
      const conversation = await myConversation(store, req, (req.params as ConvParams).conv_id);
      const query = req.query as ItemListQuery;
      const branch = query.branch ?? MAIN_BRANCH;
      const after = query.after === undefined ? undefined : await store.conversations.item(conversation.id, query.after);
      if (query.after !== undefined && after?.branch !== branch) throw new FlotillaError("invalid_request", `no item "${query.after}" to list after`, { param: "after" });
      const rows = await store.conversations.items(conversation.id, { branch, limit: query.limit + 1, order: query.order, afterPosition: after?.position });
      return pageOf(rows, query.limit, itemView);
    },
  );
  app.post(
    "/v1/conversations/:conv_id/items",
    { schema: { summary: "Add up to 20 items to a conversation, in order", tags, params: ConvParams, body: NewItems, response: { 200: ItemList } }, config: auth },
    async function createItems(req) {
      const conversation = await myConversation(store, req, (req.params as ConvParams).conv_id);
      const items = (req.body as Static<typeof NewItems>).items.map((item, i) => itemRow(itemBody(item, `items[${i}]`)));
      const rows = (await store.conversations.append(conversation.owner, conversation.id, items, Date.now())) ?? [];
      return pageOf(rows, rows.length, itemView);
    },
  );
  app.get(
    "/v1/conversations/:conv_id/items/by-call-id/:call_id",
    { schema: { summary: "The item (a function_call first, else its output) with this call_id", tags, params: CallParams, response: { 200: ItemView } }, config: auth },
    async function getItemByCallId(req) {
      const { conv_id, call_id } = req.params as Static<typeof CallParams>;
      const conversation = await myConversation(store, req, conv_id);
      const item = await store.conversations.itemByCallId(conversation.id, call_id);
      if (!item) throw new FlotillaError("not_found", `no item with call_id "${call_id}" in conversation "${conversation.id}"`, { param: "call_id" });
      return itemView(item);
    },
  );
  app.get(
    "/v1/conversations/:conv_id/items/:item_id",
    { schema: { summary: "One item of a conversation (of any of its branches)", tags, params: ItemParams, response: { 200: ItemView } }, config: auth },
    async function getItem(req) {
      const { conv_id, item_id } = req.params as ItemParams;
      const conversation = await myConversation(store, req, conv_id);
      const item = await store.conversations.item(conversation.id, item_id);
      if (!item) throw new FlotillaError("not_found", `no item with id "${item_id}" in conversation "${conversation.id}"`, { param: "item_id" });
      return itemView(item);
    },
  );
  app.delete(
    "/v1/conversations/:conv_id/items/:item_id",
    {
      schema: { summary: "Delete an item: MAIN is made anew without it, the old MAIN kept as a backup branch (Jan's)", tags, params: ItemParams, response: { 200: ItemDeleted } },
      config: auth,
    },
    async function deleteItem(req) {
      const { conv_id, item_id } = req.params as ItemParams;
      const conversation = await myConversation(store, req, conv_id);
      const item = await mainItem(store, conversation, item_id);
      const now = Date.now();
      const backup = await forkOrGone(store, conversation, { from: item.position, to: item.position, backup: editBranchName(now), copyId: () => newId("msg") }, now);
      const changed = (await store.conversations.get(conversation.owner, conversation.id)) ?? conversation;
      return { ...conversationView(changed), branch: "MAIN" as const, old_main_backup: backup, branch_created: true, new_branch: await mainBranchView(store, conversation, now), deleted: true };
    },
  );
  registerEdit(app, store);
}

async function forkOrGone(store: Store, conversation: ConversationRow, fork: Parameters<Store["conversations"]["fork"]>[2], now: number): Promise<string> {
  const backup = await store.conversations.fork(conversation.owner, conversation.id, fork, now);
  if (backup === undefined) throw new FlotillaError("not_found", `no conversation with id "${conversation.id}"`, { param: "conv_id" });
  return backup;
}

/**
 * Jan's edit of a user message: MAIN becomes the items before it and the
 * edited message (a new item); the old MAIN, the items after it included, is
 * kept whole as a backup branch (`old_main_backup`, listed with
 * `GET …/items?branch=`). The assistant's new answer is the client's next
 * request (POST …/regenerate).
 */
function registerEdit(app: FastifyInstance, store: Store): void {
  const edit = async function editItem(req: FastifyRequest) {
    const { conv_id, item_id } = req.params as ItemParams;
    const conversation = await myConversation(store, req, conv_id);
    const item = await mainItem(store, conversation, item_id);
    if (item.type !== "message" || item.role !== "user") throw new FlotillaError("invalid_request", "only a user message can be edited", { param: "item_id" });
    const now = Date.now();
    const edited = itemRow({ type: "message", role: "user", content: textParts("user", (req.body as Static<typeof Edit>).content), status: "completed" });
    const backup = await forkOrGone(store, conversation, { from: item.position, backup: editBranchName(now), copyId: () => newId("msg"), insert: edited }, now);
    const userItem = itemView({ ...edited, conversation_id: conversation.id, branch: MAIN_BRANCH, position: item.position, created_at: now });
    return { branch: "MAIN" as const, old_main_backup: backup, branch_created: true, new_branch: await mainBranchView(store, conversation, now), user_item: userItem };
  };
  const schema = { summary: "Edit a user message: later items leave MAIN, kept in the backup branch", tags, params: ItemParams, body: Edit, response: { 200: Edited } };
  app.put("/v1/conversations/:conv_id/items/:item_id/edit", { schema, config: auth }, edit);
  // Jan Server's own route and web client use POST.
  app.post("/v1/conversations/:conv_id/items/:item_id/edit", { schema, config: auth }, edit);
}

import { Type, type Static } from "@sinclair/typebox";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { FlotillaError, unixSeconds } from "../kernel/index.js";
import { MAIN_BRANCH, type ConversationRow, type ConversationShareRow, type Store } from "../store/index.js";
import { myConversation, ownerFor } from "./access.js";
import { newSlug, shareIdOf, slugOf } from "./ids.js";
import { itemView, withoutImages } from "./items.js";
import { ConvParams, Deleted, ItemParams, ItemView } from "./schema.js";

const tags = ["conversations"];
const auth = { auth: "inference" as const };

const NewShare = Type.Object(
  {
    scope: Type.Optional(Type.Union([Type.Literal("conversation"), Type.Literal("item")], { default: "conversation" })),
    item_id: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
    title: Type.Optional(Type.Union([Type.String({ maxLength: 1000 }), Type.Null()])),
    include_images: Type.Optional(Type.Boolean({ default: true })),
    include_context_messages: Type.Optional(Type.Boolean({ default: false, description: "An item's share: the user's message it answers, and what came between, too" })),
  },
  { additionalProperties: true },
);
type NewShare = Static<typeof NewShare>;
const ShareOptions = Type.Object({ include_images: Type.Boolean(), include_context_messages: Type.Boolean() });
const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);
const ShareView = Type.Object({
  id: Type.String(),
  object: Type.Literal("share"),
  slug: Type.String(),
  share_url: Type.String(),
  title: Nullable(Type.String()),
  item_id: Nullable(Type.String()),
  visibility: Type.Literal("public"),
  view_count: Type.Integer(),
  revoked_at: Nullable(Type.Integer()),
  last_viewed_at: Nullable(Type.Integer()),
  snapshot_version: Type.Integer(),
  share_options: ShareOptions,
  created_at: Type.Integer(),
  updated_at: Type.Integer(),
});
const Snapshot = Type.Object({ title: Type.String(), model_name: Type.String(), assistant_name: Type.String(), created_at: Type.Integer(), items: Type.Array(ItemView) });
type Snapshot = Static<typeof Snapshot>;
const PublicShare = Type.Object({ object: Type.Literal("public_share"), slug: Type.String(), title: Type.String(), created_at: Type.Integer(), snapshot: Snapshot });
const ShareParams = Type.Object({ conv_id: Type.String({ minLength: 1, maxLength: 128 }), share_id: Type.String({ minLength: 1, maxLength: 128 }) });
const PublicParams = Type.Object({ share_id: Type.String({ minLength: 1, maxLength: 128 }) });

function shareView(req: FastifyRequest, row: ConversationShareRow): Static<typeof ShareView> {
  const nullableSeconds = (ms: number | null) => (ms === null ? null : unixSeconds(ms));
  return {
    id: row.id,
    object: "share",
    slug: row.slug,
    share_url: `${req.protocol}://${req.host}/v1/share/${row.slug}`,
    title: row.title,
    item_id: row.item_id,
    visibility: "public",
    view_count: row.view_count,
    revoked_at: nullableSeconds(row.revoked_at),
    last_viewed_at: nullableSeconds(row.last_viewed_at),
    snapshot_version: 1,
    share_options: JSON.parse(row.options) as Static<typeof ShareOptions>,
    created_at: unixSeconds(row.created_at),
    updated_at: unixSeconds(row.updated_at),
  };
}

/** What a share shows, as it is now: the whole of MAIN, or one item (with the messages leading to it when asked). */
async function snapshotOf(store: Store, conversation: ConversationRow, given: NewShare & { include_images: boolean }): Promise<Snapshot> {
  const rows = await store.conversations.allItems(conversation.id, MAIN_BRANCH);
  let shown = rows;
  if (given.scope === "item") {
    const at = rows.findIndex((row) => row.id === given.item_id);
    if (at < 0) throw new FlotillaError("not_found", `no item with id "${given.item_id}" in conversation "${conversation.id}"`, { param: "item_id" });
    let asked = at - 1;
    while (asked >= 0 && rows[asked].role !== "user") asked--;
    shown = rows.slice(given.include_context_messages && asked >= 0 ? asked : at, at + 1);
  }
  const metadata = JSON.parse(conversation.metadata) as Record<string, string>;
  const items = shown.map(itemView).map((view) => (given.include_images ? view : withoutImages(view)));
  return { title: given.title ?? conversation.title ?? "", model_name: metadata.model_id ?? "", assistant_name: metadata.assistant_name ?? "", created_at: unixSeconds(conversation.created_at), items };
}

/** Jan's shares: a public, read-only snapshot of a conversation or one item, taken when shared, until revoked. */
export function registerShareRoutes(app: FastifyInstance, store: Store): void {
  const create = async (req: FastifyRequest, given: NewShare) => {
    const conversation = await myConversation(store, req, (req.params as ConvParams).conv_id);
    if (given.scope === "item" && !given.item_id) throw new FlotillaError("invalid_request", "item_id is required when scope is 'item'", { param: "item_id" });
    const options = { include_images: given.include_images ?? true, include_context_messages: given.include_context_messages ?? false };
    const snapshot = await snapshotOf(store, conversation, { ...given, ...options });
    const slug = newSlug();
    const now = Date.now();
    const row: ConversationShareRow = {
      id: shareIdOf(slug),
      slug,
      owner: conversation.owner,
      conversation_id: conversation.id,
      item_id: given.scope === "item" ? (given.item_id ?? null) : null,
      title: given.title ?? conversation.title,
      options: JSON.stringify(options),
      snapshot: JSON.stringify(snapshot),
      view_count: 0,
      last_viewed_at: null,
      revoked_at: null,
      created_at: now,
      updated_at: now,
    };
    await store.shares.insert(row);
    return shareView(req, row);
  };
  app.post(
    "/v1/conversations/:conv_id/share",
    { schema: { summary: "Share a conversation (or, with scope: item, one item) as a public read-only snapshot", tags, params: ConvParams, body: NewShare, response: { 201: ShareView } }, config: auth },
    async function shareConversation(req, reply) {
      return reply.code(201).send(await create(req, req.body as NewShare));
    },
  );
  app.post(
    "/v1/conversations/:conv_id/items/:item_id/share",
    { schema: { summary: "Share one item as a public read-only snapshot", tags, params: ItemParams, body: Type.Omit(NewShare, ["scope", "item_id"]), response: { 201: ShareView } }, config: auth },
    async function shareItem(req, reply) {
      return reply.code(201).send(await create(req, { ...(req.body as NewShare), scope: "item", item_id: (req.params as ItemParams).item_id }));
    },
  );
  app.get(
    "/v1/conversations/:conv_id/shares",
    { schema: { summary: "A conversation's shares, newest first, revoked ones too", tags, params: ConvParams, response: { 200: Type.Object({ object: Type.Literal("list"), data: Type.Array(ShareView) }) } }, config: auth },
    async function listShares(req) {
      const conversation = await myConversation(store, req, (req.params as ConvParams).conv_id);
      return { object: "list" as const, data: (await store.shares.list(conversation.owner, conversation.id)).map((row) => shareView(req, row)) };
    },
  );
  const revoke = async function revokeShare(req: FastifyRequest) {
    const { conv_id, share_id } = req.params as Static<typeof ShareParams>;
    const conversation = await myConversation(store, req, conv_id);
    const share = await store.shares.get(ownerFor(req), conversation.id, share_id);
    if (!share || share.revoked_at !== null) throw new FlotillaError("not_found", `no share with id "${share_id}" in conversation "${conversation.id}"`, { param: "share_id" });
    await store.shares.revoke(conversation.owner, conversation.id, share.id, Date.now());
    return { id: share.id, object: "share.deleted" as const, deleted: true };
  };
  const revokeSchema = { summary: "Revoke a share: its address answers 404 from now on", tags, params: ShareParams, response: { 200: Deleted("share.deleted") } };
  app.delete("/v1/conversations/:conv_id/share/:share_id", { schema: revokeSchema, config: auth }, revoke);
  // Jan Server's own path for the same.
  app.delete("/v1/conversations/:conv_id/shares/:share_id", { schema: revokeSchema, config: auth }, revoke);
  const open = async function openShare(req: FastifyRequest, reply: import("fastify").FastifyReply) {
    const key = (req.params as Static<typeof PublicParams>).share_id;
    const row = await store.shares.view(slugOf(key), Date.now());
    if (!row) throw new FlotillaError("not_found", "no such share, or it was revoked", { param: "share_id" });
    // Not kept by caches: a revoked share must stop showing at once.
    reply.header("cache-control", "no-store");
    return { object: "public_share" as const, slug: row.slug, title: row.title ?? "", created_at: unixSeconds(row.created_at), snapshot: JSON.parse(row.snapshot) as Snapshot };
  };
  const openSchema = { summary: "A share, by its slug or id, for anyone with the address: the snapshot taken when it was shared", tags, params: PublicParams, response: { 200: PublicShare } };
  app.get("/v1/share/:share_id", { schema: openSchema, config: { auth: "public" } }, open);
  // Jan Server's own public path.
  app.get("/v1/public/shares/:share_id", { schema: openSchema, config: { auth: "public" } }, open);
}

import { Type, type Static } from "@sinclair/typebox";

/**
 * Request and answer shapes: OpenAI's Conversations API (conversation,
 * items, lists with first_id/last_id/has_more), with the fields Jan Server
 * adds (title, project_id, referrer, list totals; see its
 * services/llm-api handlers and the web client's types).
 */
const Text = Type.String({ maxLength: 10_000_000 });
const Id = Type.String({ minLength: 1, maxLength: 128 });
export const Order = Type.Union([Type.Literal("asc"), Type.Literal("desc")], { default: "desc" });
export const Limit = Type.Integer({ minimum: 1, maximum: 100, default: 20 });

/** OpenAI's metadata: up to 16 pairs, keys up to 64 characters, values up to 512. */
export const Metadata = Type.Record(Type.String({ maxLength: 64 }), Type.String({ maxLength: 512 }), { maxProperties: 16 });

const ContentPart = Type.Object(
  {
    type: Type.String({ minLength: 1, maxLength: 64 }),
    text: Type.Optional(Text),
    image_url: Type.Optional(Type.Union([Type.String({ maxLength: 10_000_000 }), Type.Object({ url: Type.String({ maxLength: 10_000_000 }), detail: Type.Optional(Type.String({ maxLength: 16 })) })])),
    file_id: Type.Optional(Type.String({ maxLength: 256 })),
    detail: Type.Optional(Type.String({ maxLength: 16 })),
    refusal: Type.Optional(Text),
  },
  { additionalProperties: true },
);

/** An item as given: OpenAI's message, function_call or function_call_output, or another of its item types, kept as sent. */
export const ItemInput = Type.Object(
  {
    type: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    role: Type.Optional(Type.Union(["user", "assistant", "system", "developer"].map((r) => Type.Literal(r)))),
    content: Type.Optional(Type.Union([Text, Type.Array(ContentPart, { maxItems: 1000 })])),
    status: Type.Optional(Type.String({ maxLength: 32 })),
    call_id: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
    name: Type.Optional(Type.String({ maxLength: 256 })),
    arguments: Type.Optional(Text),
    output: Type.Optional(Type.Union([Text, Type.Array(ContentPart, { maxItems: 1000 })])),
  },
  { additionalProperties: true },
);
export type ItemInput = Static<typeof ItemInput>;

export const ItemView = Type.Object(
  { id: Type.String(), object: Type.Literal("conversation.item"), type: Type.String(), created_at: Type.Integer({ description: "Unix seconds" }) },
  { additionalProperties: true, description: "An item: OpenAI's fields for its type (role and content, call_id, name, arguments, output, status)" },
);
export type ItemView = Static<typeof ItemView> & Record<string, unknown>;

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);

export const ConversationView = Type.Object({
  id: Type.String(),
  object: Type.Literal("conversation"),
  title: Nullable(Type.String()),
  project_id: Nullable(Type.String()),
  referrer: Nullable(Type.String()),
  metadata: Type.Record(Type.String(), Type.String()),
  created_at: Type.Integer({ description: "Unix seconds" }),
  updated_at: Type.Integer({ description: "Unix seconds" }),
  items: Type.Optional(Type.Array(ItemView, { description: "The conversation's items, oldest first (GET of one conversation)" })),
});
export type ConversationView = Static<typeof ConversationView>;

export const NewConversation = Type.Object(
  {
    title: Type.Optional(Nullable(Type.String({ maxLength: 1000 }))),
    project_id: Type.Optional(Nullable(Type.String({ maxLength: 128 }))),
    referrer: Type.Optional(Nullable(Type.String({ maxLength: 256 }))),
    metadata: Type.Optional(Nullable(Metadata)),
    items: Type.Optional(Nullable(Type.Array(ItemInput, { maxItems: 20 }))),
  },
  { additionalProperties: true },
);
export type NewConversation = Static<typeof NewConversation>;

export const ConversationPatch = Type.Object(
  {
    title: Type.Optional(Nullable(Type.String({ maxLength: 1000 }))),
    project_id: Type.Optional(Nullable(Type.String({ maxLength: 128 }))),
    metadata: Type.Optional(Nullable(Metadata)),
  },
  { additionalProperties: true },
);
export type ConversationPatch = Static<typeof ConversationPatch>;

export const ConversationListQuery = Type.Object({
  limit: Limit,
  after: Type.Optional(Id),
  order: Order,
  project_id: Type.Optional(Id),
  referrer: Type.Optional(Type.String({ maxLength: 256 })),
});
export type ConversationListQuery = Static<typeof ConversationListQuery>;

const page = <T extends Parameters<typeof Type.Array>[0]>(item: T, total: boolean) =>
  Type.Object({
    object: Type.Literal("list"),
    data: Type.Array(item),
    first_id: Nullable(Type.String()),
    last_id: Nullable(Type.String()),
    has_more: Type.Boolean(),
    ...(total ? { total: Type.Integer({ description: "How many there are in all" }) } : {}),
  });
export const ConversationList = page(ConversationView, true);
export const ItemList = page(ItemView, false);
export const listOf = page;

export const Deleted = (object: string) => Type.Object({ id: Type.String(), object: Type.Literal(object), deleted: Type.Boolean() });

export const ItemListQuery = Type.Object({
  limit: Limit,
  after: Type.Optional(Id),
  order: Order,
  include: Type.Optional(Type.Union([Type.String({ maxLength: 128 }), Type.Array(Type.String({ maxLength: 128 }), { maxItems: 32 })])),
  branch: Type.Optional(Type.String({ minLength: 1, maxLength: 128, description: "Jan's branches: MAIN (the default) or a backup an edit left" })),
});
export type ItemListQuery = Static<typeof ItemListQuery>;

export const BranchView = Type.Object({
  name: Type.String(),
  item_count: Type.Integer(),
  created_at: Type.Integer(),
  updated_at: Type.Integer(),
  is_active: Type.Boolean(),
});
export type BranchView = Static<typeof BranchView>;

export const ConvParams = Type.Object({ conv_id: Id });
export type ConvParams = Static<typeof ConvParams>;
export const ItemParams = Type.Object({ conv_id: Id, item_id: Id });
export type ItemParams = Static<typeof ItemParams>;

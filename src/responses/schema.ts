import { Type, type Static } from "@sinclair/typebox";

/**
 * What `POST /v1/responses` takes (OpenAI's Responses API): the fields a
 * gateway can honour. Items carry more keys than these (ids, statuses, the
 * Agents SDK's own); they are kept and ignored.
 */
const Text = Type.String({ maxLength: 10_000_000 });
const ContentPart = Type.Object({ type: Type.String({ maxLength: 64 }), text: Type.Optional(Text), image_url: Type.Optional(Type.String()), refusal: Type.Optional(Type.String()) }, { additionalProperties: true });
const Role = Type.Union([Type.Literal("user"), Type.Literal("assistant"), Type.Literal("system"), Type.Literal("developer")]);

export const InputItem = Type.Object(
  {
    type: Type.Optional(Type.String({ maxLength: 64 })),
    id: Type.Optional(Type.Union([Type.String({ maxLength: 256 }), Type.Null()])),
    role: Type.Optional(Role),
    content: Type.Optional(Type.Union([Text, Type.Array(ContentPart, { maxItems: 10_000 })])),
    call_id: Type.Optional(Type.String({ maxLength: 256 })),
    name: Type.Optional(Type.String({ maxLength: 256 })),
    arguments: Type.Optional(Text),
    output: Type.Optional(Type.Union([Text, Type.Array(ContentPart)])),
    server_label: Type.Optional(Type.String({ maxLength: 256 })),
    error: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  },
  { additionalProperties: true },
);
export type InputItem = Static<typeof InputItem>;

export const FunctionTool = Type.Object(
  {
    type: Type.Literal("function"),
    name: Type.String({ minLength: 1, maxLength: 256 }),
    description: Type.Optional(Type.Union([Type.String(), Type.Null()])),
    parameters: Type.Optional(Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()])),
    strict: Type.Optional(Type.Union([Type.Boolean(), Type.Null()])),
  },
  { additionalProperties: true },
);
export type FunctionTool = Static<typeof FunctionTool>;

/** The gateway's own MCP tools: a `type: "mcp"` tool with no `server_url` (the gateway does not dial servers a request names). */
export const McpTool = Type.Object(
  {
    type: Type.Literal("mcp"),
    server_label: Type.String({ minLength: 1, maxLength: 256 }),
    server_url: Type.Optional(Type.String()),
    allowed_tools: Type.Optional(Type.Union([Type.Array(Type.String()), Type.Object({ tool_names: Type.Optional(Type.Array(Type.String())) }, { additionalProperties: true }), Type.Null()])),
    require_approval: Type.Optional(Type.Unknown()),
  },
  { additionalProperties: true },
);
export type McpTool = Static<typeof McpTool>;

export const ResponseRequest = Type.Object(
  {
    model: Type.String({ minLength: 1, maxLength: 512 }),
    input: Type.Optional(Type.Union([Text, Type.Array(InputItem, { maxItems: 100_000 })])),
    instructions: Type.Optional(Type.Union([Text, Type.Null()])),
    tools: Type.Optional(Type.Array(Type.Union([FunctionTool, McpTool]), { maxItems: 1000 })),
    tool_choice: Type.Optional(Type.Unknown()),
    previous_response_id: Type.Optional(Type.Union([Type.String({ maxLength: 128 }), Type.Null()])),
    store: Type.Optional(Type.Union([Type.Boolean(), Type.Null()])),
    stream: Type.Optional(Type.Union([Type.Boolean(), Type.Null()])),
    background: Type.Optional(Type.Union([Type.Boolean(), Type.Null()])),
    max_output_tokens: Type.Optional(Type.Union([Type.Integer({ minimum: 1, maximum: 10_000_000 }), Type.Null()])),
    temperature: Type.Optional(Type.Union([Type.Number({ minimum: 0, maximum: 2 }), Type.Null()])),
    top_p: Type.Optional(Type.Union([Type.Number({ minimum: 0, maximum: 1 }), Type.Null()])),
    parallel_tool_calls: Type.Optional(Type.Union([Type.Boolean(), Type.Null()])),
    metadata: Type.Optional(Type.Union([Type.Record(Type.String(), Type.String({ maxLength: 512 })), Type.Null()])),
    text: Type.Optional(Type.Object({ format: Type.Optional(Type.Record(Type.String(), Type.Unknown())) }, { additionalProperties: true })),
    user: Type.Optional(Type.String({ maxLength: 256 })),
  },
  { additionalProperties: true },
);
export type ResponseRequest = Static<typeof ResponseRequest>;

/** `GET /v1/responses/{id}`: with `stream=true`, a background response's events, after `starting_after` when given. */
export const RetrieveQuery = Type.Object(
  {
    stream: Type.Optional(Type.Boolean()),
    starting_after: Type.Optional(Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER })),
  },
  { additionalProperties: true },
);
export type RetrieveQuery = Static<typeof RetrieveQuery>;

/** `GET /v1/responses/{id}/input_items`: a page of the items, newest first unless `order=asc`, after the item `after` names. */
export const InputItemsQuery = Type.Object(
  {
    limit: Type.Integer({ minimum: 1, maximum: 100, default: 20 }),
    order: Type.Union([Type.Literal("asc"), Type.Literal("desc")], { default: "desc" }),
    after: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
  },
  { additionalProperties: true },
);
export type InputItemsQuery = Static<typeof InputItemsQuery>;

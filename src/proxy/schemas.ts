import { Type, type TSchema } from "@sinclair/typebox";

/**
 * Request shapes of both surfaces. They name and type the fields the gateway
 * reads; any other field passes through to the server untouched.
 */
const open = <T extends Record<string, TSchema>>(properties: T, description?: string) =>
  Type.Object(properties, { additionalProperties: true, description });

const Model = Type.String({ minLength: 1, description: "Model name, e.g. llama3.2 or llama3.2:3b-instruct-q4_K_M" });
/** Seconds (negative: keep loaded for good), within what Ollama's Go duration (int64 nanoseconds) holds. */
const KeepAlive = Type.Optional(Type.Union([Type.String(), Type.Number({ minimum: -9_223_372_036, maximum: 9_223_372_036 })]));
/**
 * Bounds every number a request carries has, so none is stored or passed on
 * as Infinity: OpenAI's own where it states them (top_p, seed's int64), and
 * generous ones where servers behind the gateway accept more than OpenAI does.
 */
const Temperature = Type.Optional(Type.Number({ minimum: 0, maximum: 100 }));
const MaxTokens = Type.Optional(Type.Integer({ minimum: 0, maximum: 1_000_000_000 }));
const TokenId = Type.Integer({ minimum: 0, maximum: 4_294_967_295 });
const Options = Type.Optional(open({}, "Model options (temperature, num_ctx, num_predict, …)"));
const Think = Type.Optional(Type.Union([Type.Boolean(), Type.String()]));
const Format = Type.Optional(Type.Union([Type.Literal("json"), Type.Object({}, { additionalProperties: true })]));
const Tools = Type.Optional(Type.Array(open({ type: Type.String() })));

export const OllamaMessage = open({
  role: Type.String({ minLength: 1 }),
  content: Type.Optional(Type.String()),
  images: Type.Optional(Type.Array(Type.String())),
  tool_calls: Type.Optional(Type.Array(open({}))),
});

export const OllamaChatRequest = open({
  model: Model,
  messages: Type.Optional(Type.Array(OllamaMessage)),
  stream: Type.Optional(Type.Boolean({ default: true })),
  format: Format,
  options: Options,
  tools: Tools,
  think: Think,
  keep_alive: KeepAlive,
});

export const OllamaGenerateRequest = open({
  model: Model,
  prompt: Type.Optional(Type.String()),
  suffix: Type.Optional(Type.String()),
  system: Type.Optional(Type.String()),
  images: Type.Optional(Type.Array(Type.String())),
  raw: Type.Optional(Type.Boolean()),
  stream: Type.Optional(Type.Boolean()),
  format: Format,
  options: Options,
  think: Think,
  keep_alive: KeepAlive,
});

export const OllamaEmbedRequest = open({
  model: Model,
  input: Type.Union([Type.String(), Type.Array(Type.String())]),
  truncate: Type.Optional(Type.Boolean()),
  dimensions: Type.Optional(Type.Integer({ minimum: 1, maximum: 65_536 })),
  options: Options,
  keep_alive: KeepAlive,
});

export const OllamaEmbeddingsRequest = open({
  model: Model,
  prompt: Type.String(),
  options: Options,
  keep_alive: KeepAlive,
});

/** Ollama's model operations accept `model`, or the older `name`. */
export const OllamaModelRef = open({
  model: Type.Optional(Type.String({ minLength: 1 })),
  name: Type.Optional(Type.String({ minLength: 1 })),
  stream: Type.Optional(Type.Boolean()),
  insecure: Type.Optional(Type.Boolean()),
  /** Flotilla's own: which node of the fleet to act on, as X-Ollama-Pin-Server does. */
  node: Type.Optional(Type.String({ minLength: 1 })),
});

export const OllamaCopyRequest = open({
  source: Type.String({ minLength: 1 }),
  destination: Type.String({ minLength: 1 }),
  node: Type.Optional(Type.String({ minLength: 1 })),
});

/** The roles OpenAI's chat API knows; any other is refused rather than passed to a server that may guess. */
export const OPENAI_ROLES = ["system", "developer", "user", "assistant", "tool", "function"] as const;

const OpenAIMessage = open({
  role: Type.Unsafe<(typeof OPENAI_ROLES)[number]>({ type: "string", enum: [...OPENAI_ROLES] }),
  content: Type.Optional(Type.Union([Type.String(), Type.Null(), Type.Array(open({ type: Type.String() }))])),
});

const ConversationId = Type.String({ minLength: 1, maxLength: 128 });

export const OpenAIChatRequest = open({
  model: Model,
  messages: Type.Array(OpenAIMessage, { minItems: 1 }),
  stream: Type.Optional(Type.Boolean()),
  stream_options: Type.Optional(open({ include_usage: Type.Optional(Type.Boolean()) })),
  temperature: Temperature,
  top_p: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
  max_tokens: MaxTokens,
  max_completion_tokens: MaxTokens,
  stop: Type.Optional(Type.Union([Type.String(), Type.Array(Type.String())])),
  tools: Tools,
  tool_choice: Type.Optional(Type.Unknown()),
  response_format: Type.Optional(open({ type: Type.String() })),
  seed: Type.Optional(Type.Integer({ minimum: -9_223_372_036_854_775_808, maximum: 9_223_372_036_854_775_807 })),
  conversation: Type.Optional(
    Type.Union([ConversationId, open({ id: Type.Optional(ConversationId) })], {
      description: "Jan: a stored conversation to continue (its id, or {id}), or {} to start one; its items are sent before `messages`",
    }),
  ),
  store: Type.Optional(Type.Boolean({ description: "Jan: with `conversation`, keep this turn in it (default true)" })),
  store_reasoning: Type.Optional(Type.Boolean({ description: "Jan: keep the answer's reasoning with the stored turn" })),
});

export const OpenAICompletionRequest = open({
  model: Model,
  prompt: Type.Union([Type.String(), Type.Array(Type.String())]),
  suffix: Type.Optional(Type.String()),
  stream: Type.Optional(Type.Boolean()),
  stream_options: Type.Optional(open({ include_usage: Type.Optional(Type.Boolean()) })),
  max_tokens: MaxTokens,
  temperature: Temperature,
  stop: Type.Optional(Type.Union([Type.String(), Type.Array(Type.String())])),
});

export const OpenAIEmbeddingRequest = open({
  model: Model,
  input: Type.Union([
    Type.String(),
    Type.Array(Type.String()),
    Type.Array(TokenId),
    Type.Array(Type.Array(TokenId)),
  ]),
  encoding_format: Type.Optional(Type.Union([Type.Literal("float"), Type.Literal("base64")])),
  dimensions: Type.Optional(Type.Integer({ minimum: 1, maximum: 65_536 })),
});

export const OpenAIModel = open({
  id: Type.String(),
  object: Type.Literal("model"),
  created: Type.Integer(),
  owned_by: Type.String(),
});

export const OpenAIModelList = Type.Object({ object: Type.Literal("list"), data: Type.Array(OpenAIModel) });

export const OllamaTagsResponse = Type.Object({
  models: Type.Array(
    open({
      name: Type.String(),
      model: Type.String(),
      modified_at: Type.Optional(Type.String()),
      size: Type.Optional(Type.Number()),
      digest: Type.Optional(Type.String()),
      details: Type.Optional(open({})),
      servers: Type.Array(Type.String(), { description: "Flotilla: the servers that have this model" }),
    }),
  ),
});

export const OllamaPsResponse = Type.Object({
  models: Type.Array(
    open({
      name: Type.String(),
      model: Type.String(),
      size: Type.Optional(Type.Number()),
      size_vram: Type.Optional(Type.Number()),
      expires_at: Type.Optional(Type.String()),
      server: Type.String({ description: "Flotilla: the server it is loaded on" }),
    }),
  ),
});

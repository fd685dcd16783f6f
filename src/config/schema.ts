import { Type, type Static } from "@sinclair/typebox";

export const ServerKind = Type.Union([Type.Literal("ollama"), Type.Literal("openai")]);
export type ServerKind = Static<typeof ServerKind>;

/** A backend as the config file, a `--server` flag or the admin API declares it. */
export const ServerSpecSchema = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 128, pattern: "^[A-Za-z0-9._:@-]+$" }),
    url: Type.String({ pattern: "^https?://" }),
    kind: Type.Optional(ServerKind),
    api_key: Type.Optional(Type.String()),
    max_concurrency: Type.Optional(Type.Integer({ minimum: 1 })),
    /** Total accelerator memory, when known: lets the router prefer the server with the most free VRAM. */
    vram_bytes: Type.Optional(Type.Integer({ minimum: 0 })),
  },
  { additionalProperties: false },
);
export type ServerSpecInput = Static<typeof ServerSpecSchema>;

const ConfigServerSchema = Type.Object(
  { ...ServerSpecSchema.properties, name: Type.Optional(ServerSpecSchema.properties.name) },
  { additionalProperties: false },
);

export const ConfigSchema = Type.Object(
  {
    port: Type.Integer({ minimum: 0, maximum: 65535, default: 8080 }),
    host: Type.String({ default: "0.0.0.0" }),
    data_dir: Type.String({ default: "./data" }),
    database_url: Type.Optional(Type.String({ pattern: "^postgres(ql)?://" })),
    redis_url: Type.Optional(Type.String()),
    metrics_port: Type.Optional(Type.Integer({ minimum: 0, maximum: 65535 })),
    ollama_port: Type.Optional(Type.Integer({ minimum: 0, maximum: 65535 })),
    admin_key: Type.Optional(Type.String({ minLength: 8 })),
    client_key: Type.Optional(Type.String({ minLength: 1 })),
    log_level: Type.Union(
      ["fatal", "error", "warn", "info", "debug", "trace", "silent"].map((l) => Type.Literal(l)),
      { default: "info" },
    ),
    auth: Type.Object(
      {
        /** `key`: inference needs an API key. `open`: inference is open; admin and model writes stay closed. */
        proxy: Type.Union([Type.Literal("key"), Type.Literal("open")], { default: "key" }),
        /** How long a dashboard login lasts. */
        session_ttl_ms: Type.Integer({ minimum: 60_000, default: 7 * 24 * 3_600_000 }),
      },
      { additionalProperties: false, default: {} },
    ),
    servers: Type.Array(ConfigServerSchema, { default: [] }),
    poll: Type.Object(
      {
        interval_ms: Type.Integer({ minimum: 100, default: 5000 }),
        timeout_ms: Type.Integer({ minimum: 50, default: 2500 }),
      },
      { additionalProperties: false, default: {} },
    ),
    routing: Type.Object(
      {
        first_byte_timeout_ms: Type.Integer({ minimum: 1, default: 90_000 }),
        max_attempts: Type.Integer({ minimum: 1, maximum: 10, default: 3 }),
        /** Serve a request for a quantization no server has from a server with the same base model. */
        fallback_quantization: Type.Boolean({ default: false }),
        queue_max: Type.Integer({ minimum: 0, default: 256 }),
        queue_timeout_ms: Type.Integer({ minimum: 1, default: 30_000 }),
        affinity: Type.Boolean({ default: true }),
        /** Embedding inputs above this count are split across servers that have the model. */
        embed_split_min: Type.Integer({ minimum: 2, default: 64 }),
      },
      { additionalProperties: false, default: {} },
    ),
    audit: Type.Object(
      {
        flush_interval_ms: Type.Integer({ minimum: 10, default: 1000 }),
        batch_size: Type.Integer({ minimum: 1, default: 500 }),
      },
      { additionalProperties: false, default: {} },
    ),
    workers: Type.Object(
      {
        /** Told to each worker at registration: how often it sends a heartbeat. */
        heartbeat_interval_ms: Type.Integer({ minimum: 50, default: 5000 }),
        /** A worker silent this long is taken for dead and its socket cut. */
        heartbeat_timeout_ms: Type.Integer({ minimum: 100, default: 15_000 }),
        register_timeout_ms: Type.Integer({ minimum: 100, default: 10_000 }),
        /** A disconnected worker stays listed (down) this long, then is dropped. */
        forget_after_ms: Type.Integer({ minimum: 0, default: 600_000 }),
      },
      { additionalProperties: false, default: {} },
    ),
    embedded: Type.Object(
      {
        /** GGUF files the gateway serves itself: `path` or `name=path`. */
        models: Type.Array(Type.String({ minLength: 1 }), { default: [] }),
        /** `auto`: with no servers and no models, generate and serve the tiny random-weight model. */
        tiny: Type.Union([Type.Literal("auto"), Type.Literal("off")], { default: "auto" }),
        max_concurrency: Type.Integer({ minimum: 1, maximum: 64, default: 2 }),
        /** The node's name in the fleet. */
        name: Type.String({ minLength: 1, maxLength: 128, pattern: "^[A-Za-z0-9._:@-]+$", default: "embedded" }),
      },
      { additionalProperties: false, default: {} },
    ),
    shutdown_timeout_ms: Type.Integer({ minimum: 0, default: 10_000 }),
  },
  { additionalProperties: false },
);

export type Config = Static<typeof ConfigSchema>;
export type ConfigServer = Static<typeof ConfigServerSchema>;

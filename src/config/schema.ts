import { Type, type Static } from "@sinclair/typebox";
import { QueueSpec } from "../queue/spec.js";
import { MediaSchema } from "./media-schema.js";
import { NotificationsSchema, PluginsSchema, ScheduleSchema } from "./operations-schema.js";

export const ServerKind = Type.Union([Type.Literal("ollama"), Type.Literal("openai")]);
export type ServerKind = Static<typeof ServerKind>;

/** A backend as the config file, a `--server` flag or the admin API declares it. */
export const ServerSpecSchema = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 128, pattern: "^[A-Za-z0-9._:@-]+$" }),
    url: Type.String({ pattern: "^https?://", maxLength: 2048, description: "The server's address: an http(s) origin with an optional base path, e.g. http://10.0.0.5:11434 or http://proxy:8080/ollama" }),
    kind: Type.Optional(ServerKind),
    /** Sent upstream as a bearer: printable characters only. */
    api_key: Type.Optional(Type.String({ maxLength: 4096, pattern: "^[^\\x00-\\x1f\\x7f]*$" })),
    max_concurrency: Type.Optional(Type.Integer({ minimum: 1, maximum: 100_000 })),
    /** Total accelerator memory, when known: lets the router prefer the server with the most free VRAM. */
    vram_bytes: Type.Optional(Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER })),
    /** A Prometheus node exporter on the server's machine (e.g. http://10.0.0.5:9100/metrics): its CPU, memory and disk. */
    node_exporter_url: Type.Optional(Type.String({ pattern: "^https?://" })),
  },
  { additionalProperties: false },
);
export type ServerSpecInput = Static<typeof ServerSpecSchema>;

/**
 * What is wrong with a server's address, if anything. It is an http(s) origin,
 * optionally with a base path (a server behind a reverse proxy, such as
 * http://gpu:8080/ollama), which the API's own paths (/api/chat, /v1/models) follow.
 * A base ending in /v1 is refused rather than read as the base before it: the
 * gateway adds /v1 itself, and an address that silently means something other than
 * it says would show one thing in the server list and call another.
 */
export function serverUrlProblem(url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return `"${url}" is not a URL`;
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") return `"${url}" is not an http or https URL`;
  if (parsed.username || parsed.password) return `"${url}" carries credentials: give the server's key as api_key`;
  if (parsed.search || parsed.hash) return `"${url}" has a query or fragment: give the server's base address only`;
  const base = parsed.pathname.replace(/\/+$/, "");
  if (base.endsWith("/v1")) {
    return `"${url}" ends in /v1: give the address without it (${parsed.origin}${base.slice(0, -"/v1".length)}); Flotilla adds /v1/... and /api/... itself`;
  }
  return undefined;
}

/** What is wrong with an address the gateway fetches as given (a node exporter's metrics page), if anything. */
export function fetchUrlProblem(url: string): string | undefined {
  try {
    const { protocol, hostname } = new URL(url);
    return (protocol === "http:" || protocol === "https:") && hostname ? undefined : `"${url}" is not an http or https URL with a host`;
  } catch {
    return `"${url}" is not a URL`;
  }
}

const ConfigServerSchema = Type.Object(
  { ...ServerSpecSchema.properties, name: Type.Optional(ServerSpecSchema.properties.name) },
  { additionalProperties: false },
);

/** An OpenID Connect provider for `GET /auth/login` (authorization code with PKCE). */
const OidcSchema = Type.Object(
  {
    issuer: Type.String({ pattern: "^https?://" }),
    client_id: Type.String({ minLength: 1 }),
    client_secret: Type.Optional(Type.String({ minLength: 1 })),
    /** This gateway's callback as registered at the provider, e.g. https://gw.example/auth/callback */
    redirect_uri: Type.String({ pattern: "^https?://" }),
    scopes: Type.String({ default: "openid profile email" }),
    /** Origins `redirect_url` may point to after login, besides paths on this gateway. */
    allowed_redirect_origins: Type.Array(Type.String({ pattern: "^https?://" }), { default: [] }),
  },
  { additionalProperties: false },
);

/** Requests per window for one key and for one user; 0 turns that limit off. */
const LimitSchema = Type.Object(
  {
    per_key: Type.Integer({ minimum: 0, default: 0 }),
    per_user: Type.Integer({ minimum: 0, default: 0 }),
    window_ms: Type.Integer({ minimum: 1000, default: 60_000 }),
  },
  { additionalProperties: false, default: {} },
);

const MIB = 1024 * 1024;

/** What one request may be: its body by route class, its headers, and how long it may take to arrive. */
const LimitsSchema = Type.Object(
  {
    /** Bodies of admin, account, fleet and other JSON routes. */
    json_body_bytes: Type.Integer({ minimum: 1024, default: MIB }),
    /** Bodies of inference routes and of queued tasks, which carry images and embedding batches. */
    inference_body_bytes: Type.Integer({ minimum: 1024, maximum: 4096 * MIB, default: 8 * MIB }),
    /** Blob uploads (`POST /api/blobs/{digest}`: model files, streamed to the server); 0 sets no limit. */
    upload_body_bytes: Type.Integer({ minimum: 0, default: 0 }),
    /** The request line and headers together (Node's maxHeaderSize); more is a 431. */
    header_bytes: Type.Integer({ minimum: 1024, maximum: 1024 * 1024, default: 16 * 1024 }),
    /** A client gets this long to send its headers (so a trickle of bytes cannot hold a socket); then 408. */
    headers_timeout_ms: Type.Integer({ minimum: 100, default: 10_000 }),
    /** A JSON body (every route but blob uploads) must arrive whole this long after its headers; then 408 and the connection closed. */
    body_timeout_ms: Type.Integer({ minimum: 100, maximum: 3_600_000, default: 30_000 }),
    /** A client gets this long to send its whole request, body included; 0 sets no limit. */
    request_timeout_ms: Type.Integer({ minimum: 0, default: 600_000 }),
    /** An answer that is streaming ends with an error after this long without a byte from its server, or without its client reading. */
    stream_idle_timeout_ms: Type.Integer({ minimum: 1, default: 90_000 }),
    /** Requests one caller (an API key, a signed-in user, else an address) may have open at once; more is a 429. 0: no limit. */
    requests_in_flight_per_key: Type.Integer({ minimum: 0, maximum: 1_000_000, default: 64 }),
    /** Request body bytes one caller may have held by the gateway at once (being read, or in requests not yet answered); more is a 429. 0: no limit. */
    body_bytes_in_flight_per_key: Type.Integer({ minimum: 0, maximum: 64 * 1024 * MIB, default: 128 * MIB }),
  },
  { additionalProperties: false, default: {} },
);

/** Seed 003's limits, separately for inference and admin routes; every other signed-in route counts as standard. */
const RateLimitsSchema = Type.Object(
  { inference: LimitSchema, admin: LimitSchema, standard: LimitSchema },
  { additionalProperties: false, default: {} },
);

export const ConfigSchema = Type.Object(
  {
    port: Type.Integer({ minimum: 0, maximum: 65535, default: 8080 }),
    host: Type.String({ default: "0.0.0.0" }),
    data_dir: Type.String({ default: "./data" }),
    database_url: Type.Optional(Type.String({ pattern: "^postgres(ql)?://" })),
    redis_url: Type.Optional(Type.String()),
    /** Where queued tasks live: `sql` (the database), `redis` (redis_url, Flotilla's own scripts) or `bullmq` (redis_url, BullMQ queues). Default: redis when redis_url is set. */
    queue_backend: Type.Optional(Type.Union([Type.Literal("sql"), Type.Literal("redis"), Type.Literal("bullmq")])),
    /** The prefix of every key Flotilla keeps in Redis, so that several gateways (or test runs) can share one server. */
    redis_prefix: Type.String({ minLength: 1, default: "flotilla:" }),
    metrics_port: Type.Optional(Type.Integer({ minimum: 0, maximum: 65535 })),
    ollama_port: Type.Optional(Type.Integer({ minimum: 0, maximum: 65535 })),
    admin_key: Type.Optional(Type.String({ minLength: 8 })),
    /**
     * Seals the secrets the gateway keeps to use again (servers' api_keys, webhooks' signing
     * secrets). Without it one is generated and kept in the database for every replica, which
     * protects a dump of some tables but not a copy of the whole database.
     */
    secret_key: Type.Optional(Type.String({ minLength: 32 })),
    /**
     * Behind a reverse proxy: whose X-Forwarded-For / -Proto to believe (Fastify's
     * trustProxy): true (any), or the proxies' addresses and CIDRs, comma-separated.
     * It decides the client address that failed logins are counted by.
     */
    trust_proxy: Type.Optional(Type.Union([Type.Boolean(), Type.String({ minLength: 1 })])),
    client_key: Type.Optional(Type.String({ minLength: 1 })),
    /**
     * Host names requests must be addressed to (the Host header), so a name re-pointed at
     * the gateway's address (DNS rebinding) is refused. Default: loopback names when it
     * listens on loopback, else any.
     */
    allowed_hosts: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 253 }))),
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
        /** How long an access token (seed 002's token flow) is good for. */
        access_ttl_ms: Type.Integer({ minimum: 10_000, default: 15 * 60_000 }),
        /** How long a token session lasts without a refresh; each refresh starts it again. */
        refresh_ttl_ms: Type.Integer({ minimum: 60_000, default: 30 * 24 * 3_600_000 }),
        /** Signs access tokens; without it one is generated and kept in the database for every replica. */
        token_secret: Type.Optional(Type.String({ minLength: 32 })),
        /** `POST /auth/guest-login` hands out guest accounts: anyone may then call models, so it is off unless asked for. */
        guests: Type.Boolean({ default: false }),
        /** What a guest may do, tighter than a user: guests cost nothing to make. */
        guest_limits: Type.Object(
          {
            /** Requests per minute of one guest, on every route; 0: no limit. */
            requests_per_minute: Type.Integer({ minimum: 0, maximum: 1_000_000, default: 30 }),
            /** The largest request body a guest may send, on any route. */
            body_bytes: Type.Integer({ minimum: 1024, maximum: 4096 * MIB, default: MIB }),
            /** Requests one guest may have open at once. */
            requests_in_flight: Type.Integer({ minimum: 1, maximum: 1_000_000, default: 2 }),
          },
          { additionalProperties: false, default: {} },
        ),
        oidc: Type.Optional(OidcSchema),
        /** Origins besides the gateway's own whose pages may send requests to it (e.g. https://chat.example.com); others are refused. */
        allowed_origins: Type.Array(Type.String({ pattern: "^https?://[^/]+$" }), { default: [] }),
        rate_limits: RateLimitsSchema,
      },
      { additionalProperties: false, default: {} },
    ),
    servers: Type.Array(ConfigServerSchema, { default: [] }),
    /** Job queues (seed 001); more come from the YAML files in `queues_dir`, reloadable at run time. */
    queues: Type.Array(QueueSpec, { default: [] }),
    /** A directory of queue YAML files (one queue, or a list, each); default `<data_dir>/queues`. */
    queues_dir: Type.Optional(Type.String({ minLength: 1 })),
    queue_workers: Type.Object(
      {
        /** Hand out the Redis address and password in POST /worker/register (seed 001) when tasks live in Redis. */
        share_redis: Type.Boolean({ default: false }),
      },
      { additionalProperties: false, default: {} },
    ),
    task_runner: Type.Object(
      {
        /** Tasks of `consumer: gateway` queues this replica runs at once, across its queues. */
        max_running: Type.Integer({ minimum: 1, default: 8 }),
        /** How often to look for tasks other replicas queued, retries that are due, and expired leases. */
        poll_ms: Type.Integer({ minimum: 10, default: 500 }),
        /** A task's lease outlives its timeout by this much; then another consumer may retry it (its consumer died). */
        lease_grace_ms: Type.Integer({ minimum: 0, default: 15_000 }),
      },
      { additionalProperties: false, default: {} },
    ),
    /** Desired copies per model across the fleet (`POST /api/distributed/rebalance` makes it so); the API may change them. */
    replicas: Type.Record(Type.String({ minLength: 1 }), Type.Integer({ minimum: 0 }), { default: {} }),
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
        /** Slots of each server with a max_concurrency that batch work (X-Flotilla-Priority: batch, queued tasks) leaves to interactive requests. */
        batch_reserve_slots: Type.Integer({ minimum: 0, default: 1 }),
        affinity: Type.Boolean({ default: true }),
        /** Embedding inputs above this count are split across servers that have the model. */
        embed_split_min: Type.Integer({ minimum: 2, default: 64 }),
        /** A routing strategy a plugin adds, by its name; unset: the built-in ranking (loaded, free VRAM, least busy, fastest). */
        strategy: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
      },
      { additionalProperties: false, default: {} },
    ),
    audit: Type.Object(
      {
        flush_interval_ms: Type.Integer({ minimum: 10, default: 1000 }),
        batch_size: Type.Integer({ minimum: 1, default: 500 }),
        /** Request rows older than this many days are deleted (daily usage counts are kept); 0 keeps them for ever. */
        retention_days: Type.Integer({ minimum: 0, maximum: 36_500, default: 7 }),
      },
      { additionalProperties: false, default: {} },
    ),
    events: Type.Object(
      {
        /** How often each node's machine (as its worker reports it) is sampled for /api/system-metrics. */
        system_sample_ms: Type.Integer({ minimum: 100, default: 60_000 }),
        /** Events and samples older than this are deleted. */
        retention_days: Type.Integer({ minimum: 1, default: 30 }),
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
        /** The models each worker may serve, by worker id (`*`: every other worker), as name patterns (`llama3:*`); none listed: any model. */
        allowed_models: Type.Record(Type.String({ minLength: 1 }), Type.Array(Type.String({ minLength: 1 })), { default: {} }),
      },
      { additionalProperties: false, default: {} },
    ),
    mcp: Type.Object(
      {
        /** A call to a relay that has not answered in this long ends with a JSON-RPC error (and is cancelled at the relay). */
        call_timeout_ms: Type.Integer({ minimum: 100, maximum: 3_600_000, default: 30_000 }),
        /** The largest JSON-RPC message taken from a caller or from a relay (nfrx's default: 10 MiB). */
        max_message_bytes: Type.Integer({ minimum: 1024, maximum: 256 * 1024 * 1024, default: 10 * 1024 * 1024 }),
        max_calls_per_relay: Type.Integer({ minimum: 1, maximum: 10_000, default: 16 }),
        /** Calls one caller (by address) may have open at once, across relays. */
        max_calls_per_caller: Type.Integer({ minimum: 1, maximum: 10_000, default: 16 }),
        heartbeat_interval_ms: Type.Integer({ minimum: 50, default: 15_000 }),
        /** A relay silent this long is taken for dead and its socket cut. */
        heartbeat_timeout_ms: Type.Integer({ minimum: 100, default: 45_000 }),
        register_timeout_ms: Type.Integer({ minimum: 100, default: 10_000 }),
        /** MCP servers reached by URL (streamable HTTP), offered at /mcp beside the relays' tools. */
        servers: Type.Array(
          Type.Object(
            {
              name: Type.String({ minLength: 1, maxLength: 64, pattern: "^[A-Za-z0-9_.-]+$" }),
              url: Type.String({ pattern: "^https?://" }),
              headers: Type.Optional(Type.Record(Type.String(), Type.String())),
            },
            { additionalProperties: false },
          ),
          { default: [] },
        ),
        /** The token of each relay started with --auth-token, by relay id, so /mcp can reach its tools. */
        relay_tokens: Type.Record(Type.String(), Type.String(), { default: {} }),
        /** Named tool sets ("virtual servers" at /mcp/{set}): patterns over namespaced tool names, `*` any run. */
        tool_sets: Type.Record(Type.String({ pattern: "^[A-Za-z0-9_.-]+$" }), Type.Array(Type.String({ minLength: 1 })), { default: {} }),
      },
      { additionalProperties: false, default: {} },
    ),
    responses: Type.Object(
      {
        /** Model calls one response may make (each MCP tool round is one more). */
        max_steps: Type.Integer({ minimum: 1, maximum: 100, default: 8 }),
        time_limit_ms: Type.Integer({ minimum: 1000, maximum: 3_600_000, default: 300_000 }),
      },
      { additionalProperties: false, default: {} },
    ),
    /** What URLs users give (task webhooks, /v1/webhooks) may make the gateway reach. */
    outbound: Type.Object(
      {
        /** Let them reach loopback, private, link-local and other internal addresses (a gateway on a private network delivering to its neighbours). */
        allow_private: Type.Boolean({ default: false }),
        /** Host names, addresses and CIDRs (`hooks.lan`, `10.0.0.7`, `10.1.0.0/16`) they may reach although internal. */
        allow: Type.Array(Type.String({ minLength: 1, maxLength: 255 }), { default: [] }),
      },
      { additionalProperties: false, default: {} },
    ),
    media: MediaSchema,
    webhooks: Type.Object(
      {
        /** The older name of outbound.allow_private: either one being true allows. */
        allow_private: Type.Boolean({ default: false }),
        /** Attempts per delivery before it is marked failed; each retry waits twice the one before. */
        max_attempts: Type.Integer({ minimum: 1, maximum: 20, default: 6 }),
        retry_base_ms: Type.Integer({ minimum: 10, maximum: 3_600_000, default: 10_000 }),
        timeout_ms: Type.Integer({ minimum: 100, maximum: 120_000, default: 10_000 }),
        poll_ms: Type.Integer({ minimum: 10, maximum: 60_000, default: 1000 }),
      },
      { additionalProperties: false, default: {} },
    ),
    schedule: ScheduleSchema,
    notifications: NotificationsSchema,
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
    plugins: PluginsSchema,
    shutdown_timeout_ms: Type.Integer({ minimum: 0, default: 10_000 }),
    limits: LimitsSchema,
  },
  { additionalProperties: false },
);

export type Config = Static<typeof ConfigSchema>;
export type ConfigServer = Static<typeof ConfigServerSchema>;

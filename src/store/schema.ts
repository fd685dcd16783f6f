import type { MediaRow, ConversationRow, ConversationItemRow, ConversationShareRow, ProjectRow, ModelCatalogRow, ProviderModelRow } from "./schema-chat.js";
import type { ScheduledJobRow, ScheduledRunRow, NotificationSubscriptionRow, NotificationSendRow, RequestRollupRow, RequestMinuteRow, RequestModelMinuteRow } from "./schema-operations.js";

export type { MediaStatus, MediaRow, ConversationRow, ConversationItemRow, ConversationShareRow, ProjectRow, ModelCatalogRow, ProviderModelRow } from "./schema-chat.js";
export type { ScheduledJobRow, ScheduledRunRow, NotificationSubscriptionRow, NotificationSendRow, RequestRollupRow, RequestMinuteRow, RequestModelMinuteRow } from "./schema-operations.js";

/**
 * Tables as both backends store them: times are integer milliseconds since the
 * epoch (bigint columns), booleans are 0/1 integers, so one code path serves
 * SQLite and PostgreSQL and every row comes back in the same shape.
 */
export interface Database {
  servers: ServerRow;
  api_keys: ApiKeyRow;
  requests: RequestRow;
  usage_daily: UsageRow;
  request_rollups: RequestRollupRow;
  request_minutes: RequestMinuteRow;
  request_model_minutes: RequestModelMinuteRow;
  users: UserRow;
  sessions: SessionRow;
  spent_refresh_tokens: SpentRefreshTokenRow;
  user_identities: UserIdentityRow;
  secrets: SecretRow;
  events: EventRow;
  system_samples: SystemSampleRow;
  fleet_settings: FleetSettingRow;
  transfers: TransferRow;
  tasks: TaskRow;
  queue_state: QueueStateRow;
  queue_workers: QueueWorkerRow;
  mcp_tools: McpToolRow;
  mcp_key_access: McpKeyAccessRow;
  webhooks: WebhookRow;
  webhook_deliveries: WebhookDeliveryRow;
  responses: ResponseRow;
  response_events: ResponseEventRow;
  media: MediaRow;
  conversations: ConversationRow;
  conversation_items: ConversationItemRow;
  conversation_shares: ConversationShareRow;
  projects: ProjectRow;
  model_catalogs: ModelCatalogRow;
  provider_models: ProviderModelRow;
  scheduled_jobs: ScheduledJobRow;
  scheduled_runs: ScheduledRunRow;
  notification_subscriptions: NotificationSubscriptionRow;
  notification_sends: NotificationSendRow;
}

export type ServerKind = "ollama" | "openai";
export type ServerSource = "config" | "flag" | "api";
export type KeyRole = "admin" | "user";
export type UserRole = "admin" | "user" | "guest";
/** `cookie`: a dashboard login; `token`: seed 002's access/refresh token family. */
export type SessionKind = "cookie" | "token";
export type Surface = "openai" | "ollama";

export interface ServerRow {
  name: string;
  url: string;
  /** null: probe the server to find out */
  kind: ServerKind | null;
  /** An upstream credential: it must be sent upstream, so it is stored sealed (`enc:v1:…`, see kernel/sealing.ts), not hashed; plain text in rows from before sealing. */
  api_key: string | null;
  max_concurrency: number | null;
  vram_bytes: number | null;
  /** 0 or 1 */
  drained: number;
  source: ServerSource;
  created_at: number;
  updated_at: number;
  /** a Prometheus node exporter on the server's machine, read for its CPU, memory and disk */
  node_exporter_url: string | null;
}

export interface ApiKeyRow {
  id: string;
  name: string;
  /** the key's first 12 characters, to recognise it by */
  prefix: string;
  /** hex sha256 of the key; the key itself is never stored */
  hash: string;
  role: KeyRole;
  /** a JSON array of scope names */
  scopes: string;
  created_at: number;
  expires_at: number | null;
  last_used_at: number | null;
  revoked_at: number | null;
  /** the user the key belongs to; null for the gateway's own admin key */
  user_id: string | null;
  /** tokens (in + out) the key may use per UTC day; null: no budget */
  daily_token_budget: number | null;
}

export interface UserRow {
  id: string;
  username: string;
  display_name: string | null;
  /** scrypt, with its parameters and salt (accounts/passwords.ts); null for users without a password */
  password_hash: string | null;
  role: UserRole;
  created_at: number;
  updated_at: number;
  last_login_at: number | null;
  email: string | null;
  /** a JSON object: the user's preferences (seed 002's /v1/users/me/settings) */
  settings: string;
}

/**
 * A login session. Only token hashes are stored: a cookie session's is the
 * cookie's; a token session's is its current refresh token's, replaced at
 * each refresh.
 */
export interface SessionRow {
  id: string;
  user_id: string;
  token_hash: string;
  created_at: number;
  expires_at: number;
  kind: SessionKind;
}

/** A refresh token already exchanged: presented again, it ends its session (reuse detection). */
export interface SpentRefreshTokenRow {
  token_hash: string;
  session_id: string;
  spent_at: number;
}

/** An OpenID Connect identity (issuer + subject) linked to a user. */
export interface UserIdentityRow {
  issuer: string;
  subject: string;
  user_id: string;
  email: string | null;
  created_at: number;
}

/** One proxied request; `id` is the request id. */
export interface RequestRow {
  id: string;
  time: number;
  key_id: string | null;
  /** the X-Ollama-Source header */
  source: string | null;
  surface: Surface;
  method: string;
  path: string;
  model: string | null;
  server: string | null;
  status: number;
  latency_ms: number;
  ttft_ms: number | null;
  tokens_in: number | null;
  tokens_out: number | null;
  retries: number;
  error: string | null;
  /** the user whose key or session made the request */
  user_id: string | null;
  /** 1: the server had the model loaded when it was chosen; 0: a cold load; null: no server was chosen */
  loaded: number | null;
  /** how the server was chosen; null when none was */
  route: RouteRule | null;
  /** the failure codes of the attempts retried, comma-joined in order */
  retry_reasons: string | null;
  /** time spent waiting for a free slot on a server */
  queue_ms: number | null;
}

/** best: the router's ranking; pin: X-Ollama-Pin-Server; affinity: the server that served the conversation before; fallback: another model or node by policy. */
export type RouteRule = "best" | "pin" | "affinity" | "fallback";

/** Counts per UTC day, model and key; '' stands for "no model" and "no key". */
export interface UsageRow {
  /** YYYY-MM-DD, UTC */
  day: string;
  model: string;
  key_id: string;
  requests: number;
  tokens_in: number;
  tokens_out: number;
  errors: number;
}

/** A secret the gateway made itself and every replica must share, such as the access-token signing key. */
export interface SecretRow {
  name: string;
  value: string;
  created_at: number;
}

export type EventKind = "model_loaded" | "model_unloaded" | "server_online" | "server_offline" | "server_reboot" | "node_drained" | "node_undrained";

/** Something that happened to a node; `model` for model events. */
export interface EventRow {
  id: string;
  time: number;
  kind: EventKind;
  node: string;
  model: string | null;
  detail: string | null;
}

/** A node's machine at one moment, as its worker reported it. */
export interface SystemSampleRow {
  node: string;
  time: number;
  cpu_cores: number | null;
  cpu_load_1m: number | null;
  memory_total_bytes: number | null;
  memory_free_bytes: number | null;
  /** a JSON array of the GPUs' name, memory and utilisation, or null */
  gpus: string | null;
}

/** A fleet setting changed at run time; `value` is JSON. */
export interface FleetSettingRow {
  name: string;
  value: string;
  updated_at: number;
}

export type TransferStatus = "running" | "completed" | "failed" | "cancelled";
/** What started a transfer: the model API, Ollama's /api/pull, a rebalance or a migration. */
export type TransferSource = "download" | "pull" | "rebalance" | "migrate";

/** A model being pulled onto a node, or one that was. */
export interface TransferRow {
  id: string;
  model: string;
  node: string;
  source: TransferSource;
  status: TransferStatus;
  /** the server's last status line, e.g. "pulling 8eeb52dfb3bb" */
  stage: string | null;
  completed_bytes: number;
  total_bytes: number;
  error: string | null;
  /** 0 or 1: asked to stop (by any replica); the replica running it stops it */
  cancel_requested: number;
  created_at: number;
  updated_at: number;
}

/** seed 001's states: pending (ready), scheduled (later), active (leased), retry (after a failure, later), and the ends. */
export type TaskState = "pending" | "scheduled" | "active" | "retry" | "completed" | "failed" | "cancelled" | "archived";

/** A queued task. `data` and `result` are JSON; `archived` is the dead letter. */
export interface TaskRow {
  id: string;
  queue: string;
  state: TaskState;
  data: string;
  result: string | null;
  error: string | null;
  attempts: number;
  max_attempts: number;
  /** 0 or 1: a task out of attempts is archived (dead-lettered) rather than failed */
  dead_letter: number;
  timeout_ms: number;
  /** not before this time (a retry's backoff, a scheduled task) */
  run_at: number;
  /** the consumer holding it while active, and until when; an expired lease is retried */
  lease_owner: string | null;
  lease_until: number | null;
  /** 0 or 1 */
  cancel_requested: number;
  user_id: string | null;
  key_id: string | null;
  webhook_url: string | null;
  created_at: number;
  updated_at: number;
  started_at: number | null;
  finished_at: number | null;
}

export interface QueueStateRow {
  name: string;
  /** 0 or 1 */
  paused: number;
  updated_at: number;
}

/** A queue worker (seed 001's `POST /worker/register`), and what it did. */
export interface QueueWorkerRow {
  id: string;
  queue: string;
  registered_at: number;
  last_seen: number;
  current_task: string | null;
  completed: number;
  failed: number;
}

/** An admin's settings for one MCP tool, by its namespaced name. JSON columns hold text. */
export interface McpToolRow {
  tool_key: string;
  description: string | null;
  category: string | null;
  /** 0 or 1 */
  is_active: number;
  /** a JSON object */
  metadata: string | null;
  /** a JSON array of patterns */
  disallowed_keywords: string | null;
  max_result_bytes: number | null;
  created_at: number;
  updated_at: number;
}

/** The MCP tools one API key may use: a named tool set, or a JSON array of patterns. */
export interface McpKeyAccessRow {
  key_id: string;
  tool_set: string | null;
  tools: string | null;
  updated_at: number;
}

/** An owner's webhook endpoint. `owner` is a user id, or `key:<id>` for a key with no user. */
export interface WebhookRow {
  id: string;
  owner: string;
  url: string;
  /** a JSON array of event types; "*" takes every one */
  events: string;
  /** `whsec_<base64>`, the Standard Webhooks form, stored sealed (`enc:v1:…`): deliveries are signed with it, so it cannot be hashed */
  secret: string;
  description: string | null;
  /** 0 or 1 */
  enabled: number;
  created_at: number;
  updated_at: number;
}

export type DeliveryStatus = "pending" | "delivered" | "failed";

export interface WebhookDeliveryRow {
  id: string;
  webhook_id: string;
  /** the event's id, sent as webhook-id: the same on every attempt */
  event_id: string;
  event_type: string;
  /** the JSON body sent */
  payload: string;
  status: DeliveryStatus;
  attempts: number;
  last_status: number | null;
  last_error: string | null;
  /** when a pending delivery is next tried */
  next_attempt_at: number | null;
  created_at: number;
  updated_at: number;
}

/** A stored Response: the object as answered and the chat history it ends (both JSON). */
export interface ResponseRow {
  id: string;
  owner: string;
  status: string;
  response: string;
  history: string;
  /** The request as run (JSON), its input items given ids; null on responses stored before migration 010. */
  request: string | null;
  /** 1 when made with `background: true`: run as a task of the gateway's job queue. */
  background: number;
  /** The queue task that runs a background response. */
  task_id: string | null;
  /** The number of the next event of its stream: the events kept (response_events) are 0 up to it. */
  event_count: number;
  created_at: number;
  updated_at: number;
}

/** One event of a background response's stream, kept to replay: its JSON without its sequence_number. */
export interface ResponseEventRow {
  response_id: string;
  sequence: number;
  event: string;
}

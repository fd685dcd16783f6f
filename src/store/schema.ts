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
  users: UserRow;
  sessions: SessionRow;
}

export type ServerKind = "ollama" | "openai";
export type ServerSource = "config" | "flag" | "api";
export type KeyRole = "admin" | "user";
export type UserRole = "admin" | "user" | "guest";
export type Surface = "openai" | "ollama";

export interface ServerRow {
  name: string;
  url: string;
  /** null: probe the server to find out */
  kind: ServerKind | null;
  /** An upstream credential: it must be sent upstream, so it is stored as given. */
  api_key: string | null;
  max_concurrency: number | null;
  vram_bytes: number | null;
  /** 0 or 1 */
  drained: number;
  source: ServerSource;
  created_at: number;
  updated_at: number;
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
}

/** A login session; the cookie carries the token, only its hash is stored. */
export interface SessionRow {
  id: string;
  user_id: string;
  token_hash: string;
  created_at: number;
  expires_at: number;
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
}

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

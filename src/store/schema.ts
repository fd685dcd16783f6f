import type { Generated } from "kysely";

/**
 * Tables as both backends store them: times are integer milliseconds since the
 * epoch, booleans are 0/1 integers, so one code path serves SQLite and PostgreSQL.
 */
export interface Database {
  servers: ServersTable;
  api_keys: ApiKeysTable;
  requests: RequestsTable;
  usage_daily: UsageDailyTable;
}

export interface ServersTable {
  name: string;
  url: string;
  kind: string | null;
  /** An upstream credential: it must be sent upstream, so it is stored as given. */
  api_key: string | null;
  max_concurrency: number | null;
  vram_bytes: number | null;
  drained: number;
  source: string;
  created_at: number;
  updated_at: number;
}

export interface ApiKeysTable {
  id: string;
  name: string;
  prefix: string;
  /** hex sha256 of the key; the key itself is never stored */
  hash: string;
  role: string;
  scopes: string;
  created_at: number;
  expires_at: number | null;
  last_used_at: number | null;
  revoked_at: number | null;
}

export interface RequestsTable {
  id: string;
  time: number;
  key_id: string | null;
  source: string | null;
  surface: string;
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

export interface UsageDailyTable {
  day: string;
  model: string;
  key_id: string;
  requests: Generated<number>;
  tokens_in: Generated<number>;
  tokens_out: Generated<number>;
  errors: Generated<number>;
}

export type ServerRow = ServersTable;
export type ApiKeyRow = ApiKeysTable;
export type RequestRow = RequestsTable;
export interface UsageRow {
  day: string;
  model: string;
  key_id: string;
  requests: number;
  tokens_in: number;
  tokens_out: number;
  errors: number;
}

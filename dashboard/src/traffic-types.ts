/** The shapes the Traffic page reads, as the gateway's schemas write them. */

/** A row of /api/requests (src/observe/audit-routes.ts RequestView). */
export interface RequestRow {
  id: string;
  time: string;
  key_id: string | null;
  user_id: string | null;
  source: string | null;
  surface: string;
  method: string;
  path: string;
  model: string | null;
  server: string | null;
  status: number;
  latency_ms: number;
  ttft_ms: number | null;
  queue_ms: number | null;
  tokens_in: number | null;
  tokens_out: number | null;
  retries: number;
  retry_reasons: string[];
  loaded: boolean | null;
  route: string | null;
  error: string | null;
}

export interface RequestPage {
  requests: RequestRow[];
  next_cursor: string | null;
}

/** A request being answered now (src/fleet/cluster-routes.ts InFlightView). */
export interface InFlight {
  id: string;
  model: string;
  node: string;
  priority: string;
  key_id: string | null;
  started_at: string;
  elapsed_ms: number;
}

interface UsageCounts {
  requests: number;
  errors: number;
  tokens_in: number;
  tokens_out: number;
  busy_ms: number;
  requests_per_hour: number;
  first_used: string;
  last_used: string;
}

/** /api/usage (src/observe/audit-routes.ts UsageView). */
export interface Usage {
  hours: number;
  since: string;
  models: Array<UsageCounts & { model: string; cold_loads: number; cold_ttft_ms_avg: number | null; loads: number; loaded_ms: number }>;
  keys: Array<UsageCounts & { key_id: string | null }>;
  users: Array<UsageCounts & { user_id: string | null }>;
  sources: Array<UsageCounts & { source: string | null }>;
}

type Spread = { p50: number; p95: number } | null;

/** /api/analytics (src/observe/analytics-routes.ts AnalyticsView). */
export interface Analytics {
  hours: number;
  since: string;
  bucket_seconds: number;
  totals: { requests: number; errors: number; loaded_hits: number; cold_loads: number; loaded_hit_ratio: number | null; retries: number; retried_requests: number; queue_ms_avg: number | null };
  routes: { best: number; pin: number; affinity: number; fallback: number };
  retry_reasons: Array<{ reason: string; count: number }>;
  nodes: Array<{ server: string; model: string | null; requests: number; errors: number; loaded_hits: number; cold_loads: number; loaded_hit_ratio: number | null; latency_ms: Spread; ttft_ms: Spread; queue_ms: Spread }>;
  buckets: Array<{ time: string; requests: number; errors: number; loaded_hits: number; cold_loads: number; retries: number; latency_ms_avg: number; ttft_ms_avg: number | null; queue_ms_avg: number | null }>;
  model_buckets: Array<{ time: string; model: string; requests: number; tokens_in: number; tokens_out: number }>;
}

/** The operations tables (seed 004): scheduled jobs and their run leases, notification subscriptions and sends. */

/** A scheduled job (seed 004). */
export interface ScheduledJobRow {
  id: string;
  name: string;
  /** a croner expression: 5 fields, or 6 with seconds first */
  cron: string;
  /** IANA name the cron is read in */
  timezone: string;
  model: string;
  node: string | null;
  /** how long a run is expected to take, for the timeline's conflicts */
  duration_ms: number;
  /** JSON: `{type: "queue", queue, tasks}` or `{type: "webhook", url, payload?}` */
  action: string;
  /** 0 or 1 */
  enabled: number;
  /** `docker:<container>` for a job imported from a container's labels; null for one made through the API */
  origin: string | null;
  last_run_at: number | null;
  /** `succeeded` or `failed` */
  last_run_status: string | null;
  last_run_error: string | null;
  /** JSON: what the run made (queued task ids, the webhook's status) */
  last_run_result: string | null;
  created_at: number;
  updated_at: number;
}

/** The lease on one run of a job: whoever inserts it fires the run. */
export interface ScheduledRunRow {
  job_id: string;
  run_at: number;
  owner: string;
  claimed_at: number;
}

/** What server events one owner wants told, and how (seed 004's subscriptions). */
export interface NotificationSubscriptionRow {
  id: string;
  /** a user id, or `key:<id>` for a key without a user */
  owner: string;
  /** a server or worker's name, or `*` for every one */
  server: string;
  /** JSON array of event names: `server.down`, `server.up`, `server.reboot` */
  events: string;
  /** `telegram`, `webhook`, or a channel a plugin added */
  channel: string;
  /** the webhook's URL; null for other channels */
  url: string | null;
  created_at: number;
}

/** When a notice of `event` about `server` last went out: the cooldown, and the lease replicas race for. */
export interface NotificationSendRow {
  server: string;
  event: string;
  sent_at: number;
  /** the replica that sent it */
  owner: string;
}

/**
 * One hour's or one day's sums of the audit rows with one value of one dimension
 * (`model`, `key_id`, `user_id`, `source`; `route` over routed rows; `retry_reasons`
 * over retried rows), kept current by every audit batch. Durations are integer microseconds.
 */
export interface RequestRollupRow {
  dimension: string;
  /** 3,600,000 (an hour) or 86,400,000 (a UTC day) */
  span_ms: number;
  start_ms: number;
  /** the value; '' when is_null */
  name: string;
  /** 1: the rows had no value (SQL null) in this dimension */
  is_null: number;
  requests: number;
  errors: number;
  tokens_in: number;
  tokens_out: number;
  busy_us: number;
  cold_loads: number;
  cold_ttft_us: number;
  cold_ttft_count: number;
  first_time: number;
  last_time: number;
}

/** One minute's sums of every audit row: the analytics chart's buckets. */
export interface RequestMinuteRow {
  minute: number;
  requests: number;
  errors: number;
  loaded_hits: number;
  cold_loads: number;
  retries: number;
  retried: number;
  latency_us: number;
  ttft_us: number;
  ttft_count: number;
  queue_us: number;
  queue_count: number;
}

/** One minute's requests and tokens of one model: the chart of tokens per model over a day or less. */
export interface RequestModelMinuteRow {
  minute: number;
  model: string;
  requests: number;
  tokens_in: number;
  tokens_out: number;
}

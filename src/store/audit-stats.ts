import { sql, type Kysely } from "kysely";
import type { Dialect } from "./connect.js";
import type { Database } from "./schema.js";

/** The audit columns usage is grouped by. */
export type UsageDimension = "model" | "key_id" | "user_id" | "source";

/** Requests of one model, key, user or source since a time. */
export interface UsageGroup {
  /** the model, key id, user id or source; null for requests without one */
  name: string | null;
  requests: number;
  errors: number;
  tokens_in: number;
  tokens_out: number;
  /** summed request durations */
  busy_ms: number;
  /** requests sent to a server that did not have the model loaded */
  cold_loads: number;
  /** time to first byte of those requests, on average: what a cold load cost */
  cold_ttft_ms_avg: number | null;
  first_time: number;
  last_time: number;
}

/** One time bucket's sums, for charts. */
export interface AnalyticsBucket {
  /** the bucket's number: its start is bucket × bucketMs */
  bucket: number;
  requests: number;
  errors: number;
  loaded_hits: number;
  cold_loads: number;
  retries: number;
  retried: number;
  latency_ms_sum: number;
  ttft_ms_sum: number;
  ttft_count: number;
  queue_ms_sum: number;
  queue_count: number;
}

/** One model's requests and tokens in one time bucket. */
export interface ModelBucket {
  /** the bucket's number: its start is bucket × bucketMs */
  bucket: number;
  model: string;
  requests: number;
  tokens_in: number;
  tokens_out: number;
}

export interface NodeModelCounts {
  server: string;
  model: string | null;
  requests: number;
  errors: number;
  loaded_hits: number;
  cold_loads: number;
}

/** Nearest-rank percentiles of one column for a server and model. */
export interface NodeModelPercentiles {
  server: string;
  model: string | null;
  p50: number;
  p95: number;
}

export type TimedColumn = "latency_ms" | "ttft_ms" | "queue_ms";

export interface AuditStats {
  /** Requests since `sinceMs` grouped by one column, most requests first. */
  usageBy(dimension: UsageDimension, sinceMs: number): Promise<UsageGroup[]>;
  /** Sums per `bucketMs`-long bucket since `sinceMs`, oldest first; empty buckets are absent. */
  analyticsBuckets(sinceMs: number, bucketMs: number): Promise<AnalyticsBucket[]>;
  /** Requests and tokens per model and `bucketMs`-long bucket since `sinceMs` (requests naming no model left out), oldest first. */
  modelBuckets(sinceMs: number, bucketMs: number): Promise<ModelBucket[]>;
  /** How many routed requests each rule chose (null: rows written before routing was recorded). */
  routeCounts(sinceMs: number): Promise<Array<{ route: string | null; requests: number }>>;
  /** Retried requests by their comma-joined failure codes. */
  retryReasons(sinceMs: number): Promise<Array<{ reasons: string | null; requests: number }>>;
  /** Counts per server and model of the requests a server answered. */
  nodeModels(sinceMs: number): Promise<NodeModelCounts[]>;
  /** p50 and p95 of a duration per server and model, over the rows that have it. */
  percentiles(column: TimedColumn, sinceMs: number): Promise<NodeModelPercentiles[]>;
}

const count = (condition: ReturnType<typeof sql>) => sql<number>`coalesce(sum(case when ${condition} then 1 else 0 end), 0)`;
const errors = count(sql`status >= 400`);
const loadedHits = count(sql`loaded = 1`);
const coldLoads = count(sql`loaded = 0`);

/**
 * Aggregates over the audit log, in SQL both SQLite and PostgreSQL run; the
 * time index bounds each scan. SQLite is told so: left to itself it walks the
 * grouped column's index (key_id, time) for its order, a random read of the
 * table per row — ten times slower over a million rows.
 */
export function auditStats(db: Kysely<Database>, dialect: Dialect): AuditStats {
  const requests = dialect === "sqlite" ? sql`requests indexed by requests_time` : sql`requests`;
  return {
    async usageBy(dimension, sinceMs) {
      const column = sql.ref(dimension);
      const { rows } = await sql<UsageGroup>`
        select ${column} as name, count(*) as requests, ${errors} as errors,
          coalesce(sum(tokens_in), 0) as tokens_in, coalesce(sum(tokens_out), 0) as tokens_out,
          coalesce(sum(latency_ms), 0) as busy_ms, ${coldLoads} as cold_loads,
          avg(case when loaded = 0 then ttft_ms end) as cold_ttft_ms_avg,
          min(time) as first_time, max(time) as last_time
        from ${requests} where time >= ${sinceMs}
        group by ${column} order by requests desc, name`.execute(db);
      return rows;
    },
    async analyticsBuckets(sinceMs, bucketMs) {
      // A literal, not a parameter: PostgreSQL must see the same expression in select and group by.
      const bucket = sql<number>`time / ${sql.lit(Math.trunc(bucketMs))}`;
      const { rows } = await sql<AnalyticsBucket>`
        select ${bucket} as bucket, count(*) as requests, ${errors} as errors,
          ${loadedHits} as loaded_hits, ${coldLoads} as cold_loads,
          coalesce(sum(retries), 0) as retries, ${count(sql`retries > 0`)} as retried,
          coalesce(sum(latency_ms), 0) as latency_ms_sum,
          coalesce(sum(ttft_ms), 0) as ttft_ms_sum, count(ttft_ms) as ttft_count,
          coalesce(sum(queue_ms), 0) as queue_ms_sum, count(queue_ms) as queue_count
        from ${requests} where time >= ${sinceMs}
        group by ${bucket} order by bucket`.execute(db);
      return rows;
    },
    async modelBuckets(sinceMs, bucketMs) {
      const bucket = sql<number>`time / ${sql.lit(Math.trunc(bucketMs))}`;
      const { rows } = await sql<ModelBucket>`
        select ${bucket} as bucket, model, count(*) as requests,
          coalesce(sum(tokens_in), 0) as tokens_in, coalesce(sum(tokens_out), 0) as tokens_out
        from ${requests} where time >= ${sinceMs} and model is not null
        group by ${bucket}, model order by bucket, model`.execute(db);
      return rows;
    },
    async routeCounts(sinceMs) {
      const { rows } = await sql<{ route: string | null; requests: number }>`
        select route, count(*) as requests from ${requests} where time >= ${sinceMs} and server is not null
        group by route order by requests desc, route`.execute(db);
      return rows;
    },
    async retryReasons(sinceMs) {
      const { rows } = await sql<{ reasons: string | null; requests: number }>`
        select retry_reasons as reasons, count(*) as requests from ${requests} where time >= ${sinceMs} and retries > 0
        group by retry_reasons`.execute(db);
      return rows;
    },
    async nodeModels(sinceMs) {
      const { rows } = await sql<NodeModelCounts>`
        select server, model, count(*) as requests, ${errors} as errors, ${loadedHits} as loaded_hits, ${coldLoads} as cold_loads
        from ${requests} where time >= ${sinceMs} and server is not null
        group by server, model order by server, model`.execute(db);
      return rows;
    },
    async percentiles(column, sinceMs) {
      const value = sql.ref(column);
      // Nearest rank: the ceil(n × p / 100)-th smallest, in integer arithmetic both databases share.
      const { rows } = await sql<{ server: string; model: string | null; value: number; rn: number; n: number }>`
        select server, model, value, rn, n from (
          select server, model, ${value} as value,
            row_number() over (partition by server, model order by ${value}) as rn,
            count(*) over (partition by server, model) as n
          from ${requests} where time >= ${sinceMs} and server is not null and ${value} is not null
        ) ranked
        where rn = (n * 50 + 99) / 100 or rn = (n * 95 + 99) / 100
        order by server, model, rn`.execute(db);
      const byGroup = new Map<string, NodeModelPercentiles>();
      for (const row of rows) {
        const id = `${row.server}\u0000${row.model ?? ""}`;
        let group = byGroup.get(id);
        if (!group) byGroup.set(id, (group = { server: row.server, model: row.model, p50: row.value, p95: row.value }));
        const rn = Number(row.rn);
        const n = Number(row.n);
        if (rn === Math.floor((n * 50 + 99) / 100)) group.p50 = row.value;
        if (rn === Math.floor((n * 95 + 99) / 100)) group.p95 = row.value;
      }
      return [...byGroup.values()];
    },
  };
}

import { sql, type Kysely, type RawBuilder } from "kysely";
import { bucketOf, HISTOGRAM_BUCKETS, histogramColumns, histogramPercentiles } from "./audit-histogram.js";
import { DAY_MS, HOUR_MS, MINUTE_MS, type RollupDimension } from "./audit-rollups.js";
import { auditStats, type AnalyticsBucket, type AuditStats, type ModelBucket, type NodeModelPercentiles, type TimedColumn, type UsageGroup } from "./audit-stats.js";
import type { Dialect } from "./connect.js";
import type { Database } from "./schema.js";

export interface RollupStatsOptions {
  /** Percentiles of a window with at most this many answered requests are taken from the rows themselves (exact); above, from the histograms. Default 20,000. */
  exactPercentileRows?: number;
}

/**
 * The same answers as the row scan (audit-stats.ts), read from the rollups: a
 * window [since, now] is the rows of its first, partial hour [since, h1), the
 * hour rollups from h1 to the next UTC midnight d1, and the day rollups from d1
 * on (the current hour and day included: every audit batch adds to them). Counts
 * and sums are exact — durations are summed in integer microseconds, the
 * precision the audit rows keep. Percentiles are exact up to
 * `exactPercentileRows` answered requests in the window, past that the middle of the histogram bucket
 * holding the nearest-rank value: within one bucket (26%) of it.
 */
export function rollupStats(db: Kysely<Database>, dialect: Dialect, options: RollupStatsOptions = {}): AuditStats {
  const scan = auditStats(db, dialect);
  const exactBelow = options.exactPercentileRows ?? 20_000;
  const requests = dialect === "sqlite" ? sql`requests indexed by requests_time` : sql`requests`;
  const edges = (sinceMs: number) => {
    const h1 = Math.ceil(sinceMs / HOUR_MS) * HOUR_MS;
    return { h1, d1: Math.ceil(h1 / DAY_MS) * DAY_MS };
  };
  /** The rollup rows of the window after its first partial hour. */
  const spans = (sinceMs: number) => {
    const { h1, d1 } = edges(sinceMs);
    return sql`((span_ms = ${HOUR_MS} and start_ms >= ${h1} and start_ms < ${d1}) or (span_ms = ${DAY_MS} and start_ms >= ${d1}))`;
  };
  /** The audit rows of the window's first partial hour. */
  const head = (sinceMs: number) => sql`time >= ${sinceMs} and time < ${edges(sinceMs).h1}`;
  const us = (column: string) => sql`cast(round(${sql.ref(column)} * 1000) as bigint)`;
  const flag = (condition: RawBuilder<unknown>) => sql`case when ${condition} then 1 else 0 end`;

  /** Counts per value of one dimension; `rowsCounted` narrows the rows as the rollup does (see countsIn). */
  async function groups(dimension: RollupDimension, sinceMs: number, rowsCounted: RawBuilder<unknown>) {
    const { rows } = await sql<Omit<UsageGroup, "busy_ms" | "cold_ttft_ms_avg"> & { busy_us: number; cold_ttft_us: number; cold_ttft_count: number }>`
      select name, sum(requests) as requests, sum(errors) as errors, sum(tokens_in) as tokens_in, sum(tokens_out) as tokens_out,
        sum(busy_us) as busy_us, sum(cold_loads) as cold_loads, sum(cold_ttft_us) as cold_ttft_us, sum(cold_ttft_count) as cold_ttft_count,
        min(first_time) as first_time, max(last_time) as last_time
      from (
        select case when is_null = 1 then null else name end as name, requests, errors, tokens_in, tokens_out, busy_us, cold_loads, cold_ttft_us, cold_ttft_count, first_time, last_time
        from request_rollups where dimension = ${dimension} and ${spans(sinceMs)}
        union all
        select ${sql.ref(dimension)} as name, 1, ${flag(sql`status >= 400`)}, coalesce(tokens_in, 0), coalesce(tokens_out, 0),
          ${us("latency_ms")}, ${flag(sql`loaded = 0`)},
          case when loaded = 0 and ttft_ms is not null then ${us("ttft_ms")} else 0 end, ${flag(sql`loaded = 0 and ttft_ms is not null`)}, time, time
        from ${requests} where ${head(sinceMs)} and ${rowsCounted}
      ) parts
      group by name order by requests desc, name`.execute(db);
    return rows;
  }

  return {
    async usageBy(dimension, sinceMs) {
      return (await groups(dimension, sinceMs, sql`1 = 1`)).map(({ busy_us, cold_ttft_us, cold_ttft_count, ...g }) => ({
        ...g,
        busy_ms: busy_us / 1000,
        cold_ttft_ms_avg: cold_ttft_count ? cold_ttft_us / cold_ttft_count / 1000 : null,
      }));
    },
    async analyticsBuckets(sinceMs, bucketMs) {
      // The minute rollups serve whole-minute buckets, every one the routes ask for.
      if (bucketMs % MINUTE_MS !== 0) return scan.analyticsBuckets(sinceMs, bucketMs);
      const { rows } = await sql<Omit<AnalyticsBucket, "latency_ms_sum" | "ttft_ms_sum" | "queue_ms_sum"> & { latency_us: number; ttft_us: number; queue_us: number }>`
        select bucket, sum(requests) as requests, sum(errors) as errors, sum(loaded_hits) as loaded_hits, sum(cold_loads) as cold_loads,
          sum(retries) as retries, sum(retried) as retried, sum(latency_us) as latency_us, sum(ttft_us) as ttft_us, sum(ttft_count) as ttft_count,
          sum(queue_us) as queue_us, sum(queue_count) as queue_count
        from (
          select minute / ${sql.lit(bucketMs / MINUTE_MS)} as bucket, requests, errors, loaded_hits, cold_loads, retries, retried, latency_us, ttft_us, ttft_count, queue_us, queue_count
          from request_minutes where minute >= ${edges(sinceMs).h1 / MINUTE_MS}
          union all
          select time / ${sql.lit(bucketMs)}, 1, ${flag(sql`status >= 400`)}, ${flag(sql`loaded = 1`)}, ${flag(sql`loaded = 0`)}, retries, ${flag(sql`retries > 0`)},
            ${us("latency_ms")}, coalesce(${us("ttft_ms")}, 0), ${flag(sql`ttft_ms is not null`)}, coalesce(${us("queue_ms")}, 0), ${flag(sql`queue_ms is not null`)}
          from ${requests} where ${head(sinceMs)}
        ) parts
        group by bucket order by bucket`.execute(db);
      return rows.map(({ latency_us, ttft_us, queue_us, ...b }) => ({ ...b, latency_ms_sum: latency_us / 1000, ttft_ms_sum: ttft_us / 1000, queue_ms_sum: queue_us / 1000 }));
    },
    async modelBuckets(sinceMs, bucketMs) {
      // Buckets of whole hours from the hour rollups; shorter whole-minute ones (windows under 30 h) from the per-model minutes.
      const perHour = bucketMs % HOUR_MS === 0;
      if (!perHour && bucketMs % MINUTE_MS !== 0) return scan.modelBuckets(sinceMs, bucketMs);
      const { h1 } = edges(sinceMs);
      const rollup = perHour
        ? sql`select start_ms / ${sql.lit(bucketMs)} as bucket, name as model, requests, tokens_in, tokens_out
            from request_rollups where dimension = 'model' and span_ms = ${HOUR_MS} and start_ms >= ${h1} and is_null = 0`
        : sql`select minute / ${sql.lit(bucketMs / MINUTE_MS)} as bucket, model, requests, tokens_in, tokens_out from request_model_minutes where minute >= ${h1 / MINUTE_MS}`;
      const { rows } = await sql<ModelBucket>`
        select bucket, model, sum(requests) as requests, sum(tokens_in) as tokens_in, sum(tokens_out) as tokens_out
        from (
          ${rollup}
          union all
          select time / ${sql.lit(bucketMs)}, model, 1, coalesce(tokens_in, 0), coalesce(tokens_out, 0)
          from ${requests} where ${head(sinceMs)} and model is not null
        ) parts
        group by bucket, model order by bucket, model`.execute(db);
      return rows;
    },
    async routeCounts(sinceMs) {
      return (await groups("route", sinceMs, sql`server is not null`)).map((g) => ({ route: g.name, requests: g.requests }));
    },
    async retryReasons(sinceMs) {
      return (await groups("retry_reasons", sinceMs, sql`retries > 0`)).map((g) => ({ reasons: g.name, requests: g.requests }));
    },
    async nodeModels(sinceMs) {
      const { rows } = await sql<{ server: string; model: string | null; requests: number; errors: number; loaded_hits: number; cold_loads: number }>`
        select server, model, sum(requests) as requests, sum(errors) as errors, sum(loaded_hits) as loaded_hits, sum(cold_loads) as cold_loads
        from (
          select server, case when model_null = 1 then null else model end as model, requests, errors, loaded_hits, cold_loads
          from request_node_rollups where ${spans(sinceMs)}
          union all
          select server, model, 1, ${flag(sql`status >= 400`)}, ${flag(sql`loaded = 1`)}, ${flag(sql`loaded = 0`)}
          from ${requests} where ${head(sinceMs)} and server is not null
        ) parts
        group by server, model order by server, model`.execute(db);
      return rows;
    },
    async percentiles(column, sinceMs) {
      if ((await answeredRows(sinceMs)) <= exactBelow) return scan.percentiles(column, sinceMs);
      const histograms = await nodeHistograms(column, sinceMs);
      const out: NodeModelPercentiles[] = [];
      for (const h of histograms.values()) {
        const p = histogramPercentiles(h.counts);
        if (p) out.push({ server: h.server, model: h.model, ...p });
      }
      return out;
    },
  };

  /** How many answered requests the window holds, from the rollups and its first partial hour: at least as many as it has values of any timed column. */
  async function answeredRows(sinceMs: number): Promise<number> {
    const { rows } = await sql<{ n: number }>`
      select coalesce((select sum(requests) from request_node_rollups where ${spans(sinceMs)}), 0)
        + (select count(*) from ${requests} where ${head(sinceMs)} and server is not null) as n`.execute(db);
    return Number(rows[0].n);
  }

  /** Per server and model, the histogram of one timed column over the window: the rollups' counts plus the first partial hour's values. */
  async function nodeHistograms(column: TimedColumn, sinceMs: number) {
    const columns = histogramColumns(column);
    const { rows: summed } = await sql<Record<string, number> & { server: string; model: string | null }>`
      select server, case when model_null = 1 then null else model end as model, ${sql.join(columns.map((c, i) => sql`sum(${sql.ref(c)}) as ${sql.ref(`b${i}`)}`))}
      from request_node_rollups where ${spans(sinceMs)}
      group by server, model_null, model`.execute(db);
    const { rows: values } = await sql<{ server: string; model: string | null; value: number }>`
      select server, model, ${sql.ref(column)} as value from ${requests}
      where ${head(sinceMs)} and server is not null and ${sql.ref(column)} is not null`.execute(db);
    const byNode = new Map<string, { server: string; model: string | null; counts: number[] }>();
    const of = (server: string, model: string | null) => {
      const id = `${server}\u0000${model === null ? "\u0001" : `=${model}`}`;
      let h = byNode.get(id);
      if (!h) byNode.set(id, (h = { server, model, counts: new Array<number>(HISTOGRAM_BUCKETS).fill(0) }));
      return h;
    };
    for (const row of summed) {
      const h = of(row.server, row.model);
      for (let i = 0; i < HISTOGRAM_BUCKETS; i++) h.counts[i] += Number(row[`b${i}`]);
    }
    for (const row of values) of(row.server, row.model).counts[bucketOf(row.value)]++;
    return byNode;
  }
}

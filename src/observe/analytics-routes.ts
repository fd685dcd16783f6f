import { Type, type Static } from "@sinclair/typebox";
import type { FastifyInstance } from "fastify";
import { isoTime } from "../kernel/index.js";
import type { AnalyticsBucket, AuditStats, NodeModelPercentiles } from "../store/index.js";
import { HOUR_MS, MAX_HOURS, Nullable } from "./audit-routes.js";

const AnalyticsQuery = Type.Object({ hours: Type.Number({ exclusiveMinimum: 0, maximum: MAX_HOURS, default: 24, description: "How far back to look, in hours" }) });
const Spread = Nullable(
  Type.Object(
    { p50: Type.Number(), p95: Type.Number() },
    { description: "Nearest-rank p50 and p95 in ms: exact while the window holds at most 20,000 answered requests, past that read from hourly histograms (3 buckets per doubling) as the middle of the bucket holding the value, so within one bucket (26%) of it" },
  ),
);
const Ratio = Nullable(Type.Number({ minimum: 0, maximum: 1, description: "loaded_hits / (loaded_hits + cold_loads); null without routed requests" }));

const AnalyticsView = Type.Object({
  hours: Type.Number(),
  since: Type.String(),
  bucket_seconds: Type.Integer(),
  totals: Type.Object({
    requests: Type.Integer(),
    errors: Type.Integer(),
    loaded_hits: Type.Integer({ description: "Requests sent to a server that had the model loaded" }),
    cold_loads: Type.Integer({ description: "Requests sent to a server that had to load the model" }),
    loaded_hit_ratio: Ratio,
    retries: Type.Integer({ description: "Attempts that failed and were tried again on another server" }),
    retried_requests: Type.Integer(),
    queue_ms_avg: Nullable(Type.Number({ description: "Average wait for a free slot" })),
  }),
  routes: Type.Object({
    best: Type.Integer({ description: "Chosen by the router's ranking" }),
    pin: Type.Integer({ description: "X-Ollama-Pin-Server" }),
    affinity: Type.Integer({ description: "The server that served the conversation before" }),
    fallback: Type.Integer({ description: "Another model or variant by the fallback policy" }),
  }),
  retry_reasons: Type.Array(Type.Object({ reason: Type.String(), count: Type.Integer() })),
  nodes: Type.Array(
    Type.Object({
      server: Type.String(),
      model: Nullable(Type.String()),
      requests: Type.Integer(),
      errors: Type.Integer(),
      loaded_hits: Type.Integer(),
      cold_loads: Type.Integer(),
      loaded_hit_ratio: Ratio,
      latency_ms: Spread,
      ttft_ms: Spread,
      queue_ms: Spread,
    }),
  ),
  buckets: Type.Array(
    Type.Object({
      time: Type.String({ description: "The bucket's start" }),
      requests: Type.Integer(),
      errors: Type.Integer(),
      loaded_hits: Type.Integer(),
      cold_loads: Type.Integer(),
      retries: Type.Integer(),
      latency_ms_avg: Type.Number(),
      ttft_ms_avg: Nullable(Type.Number()),
      queue_ms_avg: Nullable(Type.Number()),
    }),
  ),
  model_buckets: Type.Array(
    Type.Object({ time: Type.String({ description: "The bucket's start" }), model: Type.String(), requests: Type.Integer(), tokens_in: Type.Integer(), tokens_out: Type.Integer() }),
    { description: "Requests and tokens per model in each bucket that has some, for charts; requests naming no model are left out" },
  ),
});

/** Bucket lengths a chart can use; the shortest giving at most MAX_BUCKETS buckets is chosen. */
const BUCKET_SECONDS = [60, 300, 900, 3600, 6 * 3600, 24 * 3600];
const MAX_BUCKETS = 120;

export function bucketSeconds(hours: number): number {
  return BUCKET_SECONDS.find((s) => (hours * 3600) / s <= MAX_BUCKETS) ?? BUCKET_SECONDS[BUCKET_SECONDS.length - 1];
}

/** Seed 004's routing quality: loaded hits, cold loads, retries, pins and affinity, latencies per node and model, over time; tokens per model over time. */
export function registerAnalyticsRoutes(app: FastifyInstance, audit: AuditStats): void {
  app.get(
    "/api/analytics",
    {
      schema: { summary: "Routing quality and performance: loaded hits, cold loads, retries, latency per node and model, in time buckets", tags: ["observe"], querystring: AnalyticsQuery, response: { 200: AnalyticsView } },
      config: { auth: "admin" },
    },
    async function analytics(req): Promise<Static<typeof AnalyticsView>> {
      const { hours } = req.query as Static<typeof AnalyticsQuery>;
      const since = Date.now() - hours * HOUR_MS;
      const bucket = bucketSeconds(hours);
      const [buckets, modelBuckets, routes, retries, nodes, latency, ttft, queue] = await Promise.all([
        audit.analyticsBuckets(since, bucket * 1000),
        audit.modelBuckets(since, bucket * 1000),
        audit.routeCounts(since),
        audit.retryReasons(since),
        audit.nodeModels(since),
        audit.percentiles("latency_ms", since),
        audit.percentiles("ttft_ms", since),
        audit.percentiles("queue_ms", since),
      ]);
      const spread = spreads(latency, ttft, queue);
      return {
        hours,
        since: isoTime(since),
        bucket_seconds: bucket,
        totals: totals(buckets),
        routes: {
          best: routes.find((r) => r.route === "best")?.requests ?? 0,
          pin: routes.find((r) => r.route === "pin")?.requests ?? 0,
          affinity: routes.find((r) => r.route === "affinity")?.requests ?? 0,
          fallback: routes.find((r) => r.route === "fallback")?.requests ?? 0,
        },
        retry_reasons: reasons(retries),
        nodes: nodes.map((n) => ({ ...n, loaded_hit_ratio: ratio(n.loaded_hits, n.cold_loads), ...spread(n.server, n.model) })),
        buckets: buckets.map((b) => ({
          time: isoTime(b.bucket * bucket * 1000),
          requests: b.requests,
          errors: b.errors,
          loaded_hits: b.loaded_hits,
          cold_loads: b.cold_loads,
          retries: b.retries,
          latency_ms_avg: b.latency_ms_sum / b.requests,
          ttft_ms_avg: b.ttft_count ? b.ttft_ms_sum / b.ttft_count : null,
          queue_ms_avg: b.queue_count ? b.queue_ms_sum / b.queue_count : null,
        })),
        model_buckets: modelBuckets.map((b) => ({ time: isoTime(b.bucket * bucket * 1000), model: b.model, requests: b.requests, tokens_in: b.tokens_in, tokens_out: b.tokens_out })),
      };
    },
  );
}

function ratio(hits: number, cold: number): number | null {
  return hits + cold === 0 ? null : hits / (hits + cold);
}

function totals(buckets: AnalyticsBucket[]): Static<typeof AnalyticsView>["totals"] {
  const sum = (pick: (b: AnalyticsBucket) => number) => buckets.reduce((n, b) => n + pick(b), 0);
  const loadedHits = sum((b) => b.loaded_hits);
  const coldLoads = sum((b) => b.cold_loads);
  const queued = sum((b) => b.queue_count);
  return {
    requests: sum((b) => b.requests),
    errors: sum((b) => b.errors),
    loaded_hits: loadedHits,
    cold_loads: coldLoads,
    loaded_hit_ratio: ratio(loadedHits, coldLoads),
    retries: sum((b) => b.retries),
    retried_requests: sum((b) => b.retried),
    queue_ms_avg: queued ? sum((b) => b.queue_ms_sum) / queued : null,
  };
}

/** Each retried request's comma-joined codes, counted code by code, most frequent first. */
function reasons(rows: Array<{ reasons: string | null; requests: number }>): Array<{ reason: string; count: number }> {
  const counts = new Map<string, number>();
  for (const row of rows) for (const reason of (row.reasons ?? "unknown").split(",")) counts.set(reason, (counts.get(reason) ?? 0) + row.requests);
  return [...counts].map(([reason, count]) => ({ reason, count })).sort((a, b) => b.count - a.count || a.reason.localeCompare(b.reason));
}

function spreads(latency: NodeModelPercentiles[], ttft: NodeModelPercentiles[], queue: NodeModelPercentiles[]) {
  const index = (rows: NodeModelPercentiles[]) => new Map(rows.map((r) => [`${r.server}\u0000${r.model ?? ""}`, { p50: r.p50, p95: r.p95 }]));
  const [l, t, q] = [index(latency), index(ttft), index(queue)];
  return (server: string, model: string | null) => {
    const id = `${server}\u0000${model ?? ""}`;
    return { latency_ms: l.get(id) ?? null, ttft_ms: t.get(id) ?? null, queue_ms: q.get(id) ?? null };
  };
}

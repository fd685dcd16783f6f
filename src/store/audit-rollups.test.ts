import assert from "node:assert/strict";
import { Migrator, sql } from "kysely";
import { bucketBounds, bucketOf, bucketValue } from "./audit-histogram.js";
import { rollupStats } from "./audit-rollup-stats.js";
import { backfillRollups, HOUR_MS } from "./audit-rollups.js";
import { auditStats, type AuditStats, type UsageGroup } from "./audit-stats.js";
import type { RequestRow, Store } from "./index.js";
import { migrationProvider } from "./migrations/index.js";
import { forEachBackend } from "./test-backends.js";

/** Midnight UTC, so the rows cross hour and day edges. */
const T0 = Date.UTC(2026, 10, 2);
const SPREAD_MS = 3 * 24 * HOUR_MS + 5 * HOUR_MS;

/** mulberry32: the same rows on every run. */
function random(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function rows(count: number, seed: number): RequestRow[] {
  const r = random(seed);
  const pick = <T>(values: readonly T[]) => values[Math.floor(r() * values.length)];
  // Durations as the recorder keeps them: to the microsecond, from sub-millisecond to past the histogram's last edge.
  const duration = () => Math.round(2 ** (r() * 25 - 1) * 1000) / 1000;
  return Array.from({ length: count }, (_, i) => {
    const server = pick(["s1", "s2", "s3", null]);
    const retries = pick([0, 0, 0, 1, 2]);
    return {
      id: `req_${seed}_${i}`,
      time: T0 + Math.floor(r() * SPREAD_MS),
      key_id: pick(["key_a", "key_b", "key_c", null]),
      source: pick(["svc", "batch", "", null]),
      surface: "ollama",
      method: "POST",
      path: "/api/chat",
      model: pick(["m1", "m2", "m3:latest", null]),
      server,
      status: pick([200, 200, 200, 404, 500, 502]),
      latency_ms: duration(),
      ttft_ms: pick([null, duration()]),
      tokens_in: pick([null, Math.floor(r() * 500)]),
      tokens_out: pick([null, Math.floor(r() * 2000)]),
      retries,
      error: null,
      user_id: pick(["user_a", "user_b", null]),
      loaded: server === null ? null : pick([0, 1, 1, null]),
      route: server === null ? null : pick(["best", "pin", "affinity", "fallback", null]),
      retry_reasons: retries ? pick(["upstream_error", "upstream_error,timeout", null]) : null,
      queue_ms: pick([null, 0, duration()]),
    };
  });
}

const close = (a: number | null, b: number | null, what: string) => {
  if (a === null || b === null) return assert.equal(a, b, what);
  assert.ok(Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b)), `${what}: ${a} vs ${b}`);
};

function sameGroups(actual: UsageGroup[], expected: UsageGroup[], what: string) {
  const exact = (gs: UsageGroup[]) => gs.map(({ busy_ms, cold_ttft_ms_avg, ...g }) => g);
  assert.deepEqual(exact(actual), exact(expected), what);
  actual.forEach((g, i) => {
    close(g.busy_ms, expected[i].busy_ms, `${what} busy_ms of ${g.name}`);
    close(g.cold_ttft_ms_avg, expected[i].cold_ttft_ms_avg, `${what} cold_ttft_ms_avg of ${g.name}`);
  });
}

/** Every answer of the rollups against the row scan, for windows starting on and between hour and day edges. */
async function compare(rollups: AuditStats, scan: AuditStats) {
  const windows = [0, T0, T0 + HOUR_MS, T0 + 24 * HOUR_MS, T0 + 17 * 60_000 + 123, T0 + 30 * HOUR_MS + 1, T0 + 3 * 24 * HOUR_MS + 59 * 60_000, T0 + SPREAD_MS + 1];
  for (const since of windows) {
    const at = `since T0${since ? `+${since - T0}` : "=0"}`;
    for (const dimension of ["model", "key_id", "user_id", "source"] as const) sameGroups(await rollups.usageBy(dimension, since), await scan.usageBy(dimension, since), `${at} usage by ${dimension}`);
    for (const bucketMs of [60_000, 900_000, HOUR_MS, 6 * HOUR_MS, 24 * HOUR_MS]) {
      const [a, b] = [await rollups.analyticsBuckets(since, bucketMs), await scan.analyticsBuckets(since, bucketMs)];
      const exact = (bs: typeof a) => bs.map(({ latency_ms_sum, ttft_ms_sum, queue_ms_sum, ...rest }) => rest);
      assert.deepEqual(exact(a), exact(b), `${at} buckets of ${bucketMs}`);
      a.forEach((bucket, i) => {
        for (const sum of ["latency_ms_sum", "ttft_ms_sum", "queue_ms_sum"] as const) close(bucket[sum], b[i][sum], `${at} ${sum} of bucket ${bucket.bucket}`);
      });
    }
    for (const bucketMs of [60_000, 900_000, HOUR_MS, 6 * HOUR_MS, 24 * HOUR_MS]) assert.deepEqual(await rollups.modelBuckets(since, bucketMs), await scan.modelBuckets(since, bucketMs), `${at} model buckets of ${bucketMs}`);
    assert.deepEqual(await rollups.routeCounts(since), await scan.routeCounts(since), `${at} routes`);
    const byReasons = (rs: Array<{ reasons: string | null; requests: number }>) => [...rs].sort((x, y) => String(x.reasons).localeCompare(String(y.reasons)));
    assert.deepEqual(byReasons(await rollups.retryReasons(since)), byReasons(await scan.retryReasons(since)), `${at} retry reasons`);
    assert.deepEqual(await rollups.nodeModels(since), await scan.nodeModels(since), `${at} nodes`);
    for (const column of ["latency_ms", "ttft_ms", "queue_ms"] as const) {
      const id = (p: { server: string; model: string | null }) => `${p.server}/${p.model}`;
      const estimated = new Map((await rollups.percentiles(column, since)).map((p) => [id(p), p]));
      const exact = await scan.percentiles(column, since);
      assert.equal(estimated.size, exact.length, `${at} ${column}: one spread per server and model`);
      for (const p of exact) {
        const e = estimated.get(id(p));
        for (const q of ["p50", "p95"] as const) {
          // The estimate is the middle of the bucket holding the exact value: within that bucket's width of it.
          assert.equal(e?.[q], bucketValue(bucketOf(p[q])), `${at} ${column} ${q} of ${id(p)}: exact ${p[q]}`);
          const [low, high] = bucketBounds(bucketOf(p[q]));
          if (high !== Infinity) assert.ok(Math.abs((e?.[q] ?? NaN) - p[q]) <= high - low);
        }
      }
    }
  }
}

const histogramsOnly = (store: Store) => rollupStats(store.db, store.dialect, { exactPercentileRows: 0 });

forEachBackend("rollups answer usage and analytics as a scan of the rows does: counts and sums exactly, percentiles within a bucket", async (store) => {
  const all = rows(3000, 1);
  // Batches of every size, out of time order, and one sent twice (a retry after an unacknowledged commit): stored once, counted once.
  for (let i = 0, size = 1; i < all.length; i += size, size = size * 3 + 1) await store.audit.insertRequests(all.slice(i, i + size));
  await store.audit.insertRequests(all.slice(100, 400));
  await store.audit.insertRequests([...rows(50, 2), ...rows(50, 2)]);
  await compare(histogramsOnly(store), auditStats(store.db, store.dialect));
});

forEachBackend("migration 017 adds up the rows an upgraded database holds, and the current hour is answered as rows arrive", async (store) => {
  const migrator = new Migrator({ db: store.db, provider: migrationProvider });
  assert.equal((await migrator.migrateTo("016_notifications")).error, undefined);
  const old = rows(1500, 3);
  for (let i = 0; i < old.length; i += 500) await store.db.insertInto("requests").values(old.slice(i, i + 500)).execute();
  assert.equal((await migrator.migrateToLatest()).error, undefined);
  const scan = auditStats(store.db, store.dialect);
  await compare(histogramsOnly(store), scan);
  // The backfill pages through the rows by (time, id): in pages of 7, ties within a millisecond included, the same sums.
  for (const table of ["request_rollups", "request_node_rollups", "request_minutes", "request_model_minutes"]) await sql`delete from ${sql.table(table)}`.execute(store.db);
  await store.db.insertInto("requests").values(rows(20, 6).map((r) => ({ ...r, time: T0 + 5 }))).execute();
  assert.equal(await backfillRollups(store.db, 7), 1520);
  await compare(histogramsOnly(store), scan);
  const later = rows(200, 4).map((r, i) => ({ ...r, time: T0 + SPREAD_MS + i }));
  await store.audit.insertRequests(later);
  const since = T0 + SPREAD_MS - 10 * 60_000;
  const earlier = (await store.audit.listRequests({ sinceMs: since, limit: 1000 })).length - 200;
  assert.equal((await store.audit.usageBy("model", since)).reduce((n, g) => n + g.requests, 0), earlier + 200);
  await compare(histogramsOnly(store), scan);
});

forEachBackend("hour and minute rollups go after 92 days (per-model minutes after 2), day rollups stay", async (store) => {
  await store.audit.insertRequests(rows(300, 5));
  const counts = async () => {
    const { rows: r } = await sql<{ hours: number; days: number; minutes: number }>`select
      (select count(*) from request_rollups where span_ms = ${HOUR_MS}) + (select count(*) from request_node_rollups where span_ms = ${HOUR_MS}) as hours,
      (select count(*) from request_rollups where span_ms <> ${HOUR_MS}) + (select count(*) from request_node_rollups where span_ms <> ${HOUR_MS}) as days,
      (select count(*) from request_minutes) + (select count(*) from request_model_minutes) as minutes`.execute(store.db);
    return r[0];
  };
  const before = await counts();
  assert.ok(before.hours > 0 && before.days > 0 && before.minutes > 0);
  assert.equal(await store.audit.pruneRollups(T0 + 2 * 24 * HOUR_MS), 0);
  assert.equal(await store.audit.pruneRollups(T0 + SPREAD_MS + 92 * 24 * HOUR_MS), before.hours + before.minutes);
  assert.deepEqual(await counts(), { hours: 0, days: before.days, minutes: 0 });
});

/**
 * node dist/bench/audit.js — the audit log's queries at a million rows, on SQLite and PostgreSQL.
 *
 * Fills BENCH_ROWS (default 1,000,000) request rows spread over the last 7 days
 * (200 keys, 100 users, 20 sources, 30 models, 10 servers; 2% 5xx, 1% 4xx)
 * through the store's own batched insert, then times what the operations
 * routes run: /api/requests' query newest first with each filter (over the
 * last 24 hours and the whole week, and the second page by cursor), /api/usage's
 * four groupings and /api/analytics' eight queries over the last hour, day and
 * week, from the rollups (what the routes read) and by a scan of the rows (what
 * they read before 017; BENCH_SCAN_RUNS=0 skips it), the backfill migration 017
 * runs on an upgraded database, and the retention's batched delete of the
 * oldest day. Prints p50/p95 per query.
 * PostgreSQL is measured when it answers at FLOTILLA_TEST_DATABASE_URL (default
 * the local one), in a database of its own dropped afterwards. BENCH_ONLY=sqlite or
 * =postgres runs one.
 * A benchmark prints figures; it asserts nothing.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "kysely";
import pg from "pg";
import { auditStats, type AuditStats } from "../src/store/audit-stats.js";
import { backfillRollups } from "../src/store/audit-rollups.js";
import { openStore, type RequestQuery, type RequestRow, type Store } from "../src/store/index.js";

const ROWS = Number(process.env.BENCH_ROWS ?? 1_000_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 40);
const HEAVY_RUNS = Number(process.env.BENCH_HEAVY_RUNS ?? 5);
const DATABASE_URL = process.env.FLOTILLA_TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const FILL_BATCH = 5000;
const HOUR_MS = 3_600_000;
const WEEK_MS = 7 * 24 * HOUR_MS;
const ROUTES = ["best", "best", "best", "best", "affinity", "pin", "fallback"] as const;

/** A deterministic spread of values: row i of n. */
function row(i: number, now: number): RequestRow {
  const h = (i * 2654435761) >>> 0;
  const status = h % 100 < 2 ? 502 : h % 100 < 3 ? 404 : 200;
  const loaded = h % 10 === 0 ? 0 : 1;
  return {
    id: `req_${i.toString(36).padStart(8, "0")}`,
    time: now - WEEK_MS + Math.floor((i / ROWS) * WEEK_MS),
    key_id: `key_${h % 200}`,
    user_id: `user_${h % 100}`,
    source: h % 3 === 0 ? null : `svc_${h % 20}`,
    surface: h % 2 ? "openai" : "ollama",
    method: "POST",
    path: h % 2 ? "/v1/chat/completions" : "/api/chat",
    model: `model_${(h >>> 8) % 30}`,
    server: status === 404 ? null : `gpu${(h >>> 4) % 10}`,
    status,
    latency_ms: 50 + (h % 5000) / 3,
    ttft_ms: 5 + (h % 700) / 7 + (loaded ? 0 : 800),
    tokens_in: 20 + (h % 300),
    tokens_out: 50 + (h % 900),
    retries: h % 50 === 0 ? 1 : 0,
    error: status === 502 ? "the server stopped mid-answer" : null,
    loaded: status === 404 ? null : loaded,
    route: status === 404 ? null : ROUTES[h % ROUTES.length],
    retry_reasons: h % 50 === 0 ? "upstream_error" : null,
    queue_ms: h % 20 === 0 ? (h % 3000) / 3 : 0.002,
  };
}

async function fill(store: Store, now: number): Promise<number> {
  const started = performance.now();
  for (let i = 0; i < ROWS; i += FILL_BATCH) {
    const rows: RequestRow[] = [];
    for (let j = i; j < Math.min(ROWS, i + FILL_BATCH); j++) rows.push(row(j, now));
    await store.audit.insertRequests(rows);
  }
  return performance.now() - started;
}

/** p50 and p95 of `runs` timed calls, after one untimed. */
async function time(runs: number, fn: (run: number) => Promise<unknown>): Promise<{ p50: number; p95: number }> {
  const times: number[] = [];
  await fn(0);
  for (let run = 0; run < runs; run++) {
    const started = performance.now();
    await fn(run);
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  const at = (p: number) => times[Math.min(times.length - 1, Math.ceil((p / 100) * times.length) - 1)];
  return { p50: at(50), p95: at(95) };
}

const ms = (n: number) => (n < 10 ? n.toFixed(2) : n.toFixed(1));

async function measure(name: string, store: Store, now: number): Promise<void> {
  const day = now - 24 * HOUR_MS;
  const week = now - WEEK_MS - 1;
  const list = (q: Omit<RequestQuery, "limit" | "sinceMs">, sinceMs: number) => () => store.audit.listRequests({ limit: 101, sinceMs, ...q });
  const filters: Array<[string, (run: number) => Omit<RequestQuery, "limit" | "sinceMs">]> = [
    ["none", () => ({})],
    ["key", (r) => ({ keyId: `key_${r % 200}` })],
    ["user", (r) => ({ userId: `user_${r % 100}` })],
    ["source", (r) => ({ source: `svc_${r % 20}` })],
    ["model", (r) => ({ model: `model_${r % 30}` })],
    ["server", (r) => ({ server: `gpu${r % 10}` })],
    ["status=502", () => ({ status: 502 })],
    ["key+model", (r) => ({ keyId: `key_${r % 200}`, model: `model_${r % 30}` })],
    ["model+status=404 (rare)", (r) => ({ model: `model_${r % 30}`, status: 404 })],
  ];
  console.log(`\n${name}: ${ROWS.toLocaleString("en")} rows; ms per query, p50 / p95 of ${RUNS} runs (limit 100)`);
  console.log("| filter | last 24 h | last 7 days | 2nd page (cursor), 7 days |");
  console.log("| --- | --- | --- | --- |");
  for (const [label, of] of filters) {
    const d = await time(RUNS, (r) => list(of(r), day)());
    const w = await time(RUNS, (r) => list(of(r), week)());
    const cursors: Array<{ time: number; id: string } | undefined> = [];
    for (let r = 0; r < RUNS; r++) cursors.push((await store.audit.listRequests({ limit: 100, sinceMs: week, ...of(r) })).at(-1));
    const page2 = await time(RUNS, (r) => store.audit.listRequests({ limit: 101, sinceMs: week, before: cursors[r], ...of(r) }));
    console.log(`| ${label} | ${ms(d.p50)} / ${ms(d.p95)} | ${ms(w.p50)} / ${ms(w.p95)} | ${ms(page2.p50)} / ${ms(page2.p95)} |`);
  }
  const hour = now - HOUR_MS;
  const rollups = store.audit;
  const scan = auditStats(store.db, store.dialect);
  const views: Array<[string, (stats: AuditStats, since: number) => Promise<unknown>]> = [
    ["usage: 4 groupings (/api/usage)", (stats, since) => Promise.all((["model", "key_id", "user_id", "source"] as const).map((d) => stats.usageBy(d, since)))],
    ["analytics: buckets", (stats, since) => stats.analyticsBuckets(since, bucketSeconds(since) * 1000)],
    ["analytics: model buckets", (stats, since) => stats.modelBuckets(since, bucketSeconds(since) * 1000)],
    ["analytics: routes, retries, nodes", (stats, since) => Promise.all([stats.routeCounts(since), stats.retryReasons(since), stats.nodeModels(since)])],
    ["analytics: p50/p95 latency, ttft, queue", (stats, since) => Promise.all((["latency_ms", "ttft_ms", "queue_ms"] as const).map((c) => stats.percentiles(c, since)))],
    ["all of /api/analytics (8 queries)", (stats, since) => Promise.all([stats.analyticsBuckets(since, bucketSeconds(since) * 1000), stats.modelBuckets(since, bucketSeconds(since) * 1000), stats.routeCounts(since), stats.retryReasons(since), stats.nodeModels(since), ...(["latency_ms", "ttft_ms", "queue_ms"] as const).map((c) => stats.percentiles(c, since))])],
  ];
  /** The chart's bucket for a window, as the route picks it. */
  function bucketSeconds(since: number): number {
    const hours = (now - since) / HOUR_MS;
    return [60, 300, 900, 3600, 6 * 3600, 24 * 3600].find((s) => (hours * 3600) / s <= 120) ?? 86_400;
  }
  const scanRuns = Number(process.env.BENCH_SCAN_RUNS ?? HEAVY_RUNS);
  console.log(`\n| aggregate, ms p50 / p95 | rollups 1 h | rollups 24 h | rollups 7 days | row scan 1 h | row scan 24 h | row scan 7 days |`);
  console.log("| --- | --- | --- | --- | --- | --- | --- |");
  for (const [label, fn] of views) {
    const cells: string[] = [];
    for (const since of [hour, day, week]) {
      const t = await time(RUNS, () => fn(rollups, since));
      cells.push(`${ms(t.p50)} / ${ms(t.p95)}`);
    }
    for (const since of [hour, day, week]) {
      if (scanRuns === 0) cells.push("–");
      else {
        const t = await time(scanRuns, () => fn(scan, since));
        cells.push(`${ms(t.p50)} / ${ms(t.p95)}`);
      }
    }
    console.log(`| ${label} | ${cells.join(" | ")} |`);
  }
  const sizes = await sql<{ dims: number; nodes: number; minutes: number; model_minutes: number }>`select (select count(*) from request_rollups) as dims,
    (select count(*) from request_node_rollups) as nodes, (select count(*) from request_minutes) as minutes, (select count(*) from request_model_minutes) as model_minutes`.execute(store.db);
  console.log(`\nrollup rows: ${JSON.stringify(sizes.rows[0])}`);
  const backfillStarted = performance.now();
  for (const table of ["request_rollups", "request_node_rollups", "request_minutes", "request_model_minutes"]) await sql`delete from ${sql.table(table)}`.execute(store.db);
  const added = await store.db.transaction().execute((tx) => backfillRollups(tx));
  const backfillMs = performance.now() - backfillStarted;
  console.log(`backfill (migration 017 on an upgraded database): ${added.toLocaleString("en")} rows in ${(backfillMs / 1000).toFixed(1)} s (${Math.round(added / (backfillMs / 1000)).toLocaleString("en")} rows/s)`);
  const batches: number[] = [];
  let deleted = 0;
  const started = performance.now();
  for (;;) {
    const t = performance.now();
    const n = await store.audit.pruneRequests(now - 6 * 24 * HOUR_MS, 1000);
    batches.push(performance.now() - t);
    deleted += n;
    if (n < 1000) break;
  }
  batches.sort((a, b) => a - b);
  const total = performance.now() - started;
  console.log(`\nretention: the oldest day, ${deleted.toLocaleString("en")} rows, in ${batches.length} batches of 1,000: ${(total / 1000).toFixed(1)} s, ${Math.round(deleted / (total / 1000)).toLocaleString("en")} rows/s; one batch p50 ${ms(batches[Math.floor(batches.length / 2)])} ms, max ${ms(batches[batches.length - 1])} ms`);
}

async function run(name: string, open: () => Promise<Store>, cleanup: () => Promise<void>): Promise<void> {
  const store = await open();
  try {
    const now = Date.now();
    const fillMs = await fill(store, now);
    console.log(`\n${name}: filled ${ROWS.toLocaleString("en")} rows in ${(fillMs / 1000).toFixed(1)} s (${Math.round(ROWS / (fillMs / 1000)).toLocaleString("en")} rows/s, ${FILL_BATCH} a transaction)`);
    // Autovacuum would analyze the fresh table in its own time; the figures are for a table it has seen.
    if (name === "PostgreSQL") await sql`analyze`.execute(store.db);
    await measure(name, store, now);
  } finally {
    await store.close();
    await cleanup();
  }
}

async function postgresAnswers(): Promise<boolean> {
  const pool = new pg.Pool({ connectionString: DATABASE_URL, connectionTimeoutMillis: 2000, max: 1 });
  try {
    await pool.query("select 1");
    return true;
  } catch {
    return false;
  } finally {
    await pool.end();
  }
}

async function adminQuery(text: string): Promise<void> {
  const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 1 });
  try {
    await pool.query(text);
  } finally {
    await pool.end();
  }
}

const dir = mkdtempSync(join(tmpdir(), "flotilla-bench-audit-"));
try {
  if (process.env.BENCH_ONLY !== "postgres") await run("SQLite", () => openStore({ dataDir: dir }), async () => undefined);
  if (process.env.BENCH_ONLY !== "sqlite" && (await postgresAnswers())) {
    // A database of its own, not a schema in the shared one: migration tables left in a schema for minutes confuse other runs' migrations there.
    const name = `flotilla_bench_${randomBytes(6).toString("hex")}`;
    await adminQuery(`create database ${name}`);
    const url = new URL(DATABASE_URL);
    url.pathname = `/${name}`;
    await run("PostgreSQL", () => openStore({ dataDir: dir, databaseUrl: url.toString() }), () => adminQuery(`drop database ${name} with (force)`));
  } else if (process.env.BENCH_ONLY !== "sqlite") {
    console.log(`\nPostgreSQL: not measured, nothing answers at ${DATABASE_URL}`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

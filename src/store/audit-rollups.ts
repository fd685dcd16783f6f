import { sql, type Kysely, type Transaction } from "kysely";
import { bucketOf, histogramColumns, TIMED_COLUMNS } from "./audit-histogram.js";
import type { Database, RequestMinuteRow, RequestModelMinuteRow, RequestRollupRow, RequestRow } from "./schema.js";

export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;
export const MINUTE_MS = 60_000;
/** Hour and minute rollups are kept this long (the operations views look back at most 90 days); day rollups are kept for good, like usage_daily. */
export const ROLLUP_DETAIL_MS = 92 * DAY_MS;
/** Per-model minutes serve charts of windows under 30 h (their buckets are shorter than an hour); longer ones read hour rollups. */
export const MODEL_MINUTES_MS = 2 * DAY_MS;
/** The spans every row is added to: its hour and its UTC day. */
const SPANS = [HOUR_MS, DAY_MS];
/** Rows per upsert statement: a node row has 224 columns, and SQLite takes at most 32,766 parameters. */
const UPSERT_BATCH = 100;

type Db = Kysely<Database> | Transaction<Database>;

/** The dimensions usage and analytics group by, and which rows each counts. */
export const ROLLUP_DIMENSIONS = ["model", "key_id", "user_id", "source", "route", "retry_reasons"] as const;
export type RollupDimension = (typeof ROLLUP_DIMENSIONS)[number];
export function countsIn(dimension: RollupDimension, row: RequestRow): boolean {
  if (dimension === "route") return row.server !== null;
  if (dimension === "retry_reasons") return row.retries > 0;
  return true;
}

/** One server and model's counts and histograms for an hour or a day (request_node_rollups, columns made in 017). */
interface NodeRollup {
  span_ms: number;
  start_ms: number;
  server: string;
  model: string;
  model_null: number;
  requests: number;
  errors: number;
  loaded_hits: number;
  cold_loads: number;
  histograms: number[][];
}

const NODE_COUNTS = ["requests", "errors", "loaded_hits", "cold_loads"] as const;
export const NODE_COLUMNS = ["span_ms", "start_ms", "server", "model", "model_null", ...NODE_COUNTS, ...TIMED_COLUMNS.flatMap(histogramColumns)];

const micros = (ms: number) => Math.round(ms * 1000);

/** What a set of newly stored audit rows adds to each rollup, summed per key. */
export function rollupsOf(rows: readonly RequestRow[]): { dimensions: RequestRollupRow[]; nodes: NodeRollup[]; minutes: RequestMinuteRow[]; modelMinutes: RequestModelMinuteRow[] } {
  const dimensions = new Map<string, RequestRollupRow>();
  const nodes = new Map<string, NodeRollup>();
  const minutes = new Map<number, RequestMinuteRow>();
  const modelMinutes = new Map<string, RequestModelMinuteRow>();
  for (const row of rows) {
    const failed = row.status >= 400 ? 1 : 0;
    const cold = row.loaded === 0 ? 1 : 0;
    for (const span of SPANS) {
      const start = Math.floor(row.time / span) * span;
      for (const dimension of ROLLUP_DIMENSIONS) {
        if (!countsIn(dimension, row)) continue;
        const value = row[dimension];
        const id = `${dimension}\u0000${span}\u0000${start}\u0000${value === null ? "\u0001" : `=${value}`}`;
        let d = dimensions.get(id);
        if (!d) {
          d = { dimension, span_ms: span, start_ms: start, name: value ?? "", is_null: value === null ? 1 : 0, requests: 0, errors: 0, tokens_in: 0, tokens_out: 0, busy_us: 0, cold_loads: 0, cold_ttft_us: 0, cold_ttft_count: 0, first_time: row.time, last_time: row.time };
          dimensions.set(id, d);
        }
        d.requests++;
        d.errors += failed;
        d.tokens_in += row.tokens_in ?? 0;
        d.tokens_out += row.tokens_out ?? 0;
        d.busy_us += micros(row.latency_ms);
        d.cold_loads += cold;
        if (cold && row.ttft_ms !== null) {
          d.cold_ttft_us += micros(row.ttft_ms);
          d.cold_ttft_count++;
        }
        d.first_time = Math.min(d.first_time, row.time);
        d.last_time = Math.max(d.last_time, row.time);
      }
      if (row.server === null) continue;
      const id = `${span}\u0000${start}\u0000${row.server}\u0000${row.model === null ? "\u0001" : `=${row.model}`}`;
      let n = nodes.get(id);
      if (!n) {
        const histograms = TIMED_COLUMNS.map(() => new Array<number>(histogramColumns("latency_ms").length).fill(0));
        n = { span_ms: span, start_ms: start, server: row.server, model: row.model ?? "", model_null: row.model === null ? 1 : 0, requests: 0, errors: 0, loaded_hits: 0, cold_loads: 0, histograms };
        nodes.set(id, n);
      }
      n.requests++;
      n.errors += failed;
      n.loaded_hits += row.loaded === 1 ? 1 : 0;
      n.cold_loads += cold;
      TIMED_COLUMNS.forEach((column, i) => {
        const value = row[column];
        if (value !== null) (n as NodeRollup).histograms[i][bucketOf(value)]++;
      });
    }
    const minute = Math.floor(row.time / MINUTE_MS);
    let m = minutes.get(minute);
    if (!m) minutes.set(minute, (m = { minute, requests: 0, errors: 0, loaded_hits: 0, cold_loads: 0, retries: 0, retried: 0, latency_us: 0, ttft_us: 0, ttft_count: 0, queue_us: 0, queue_count: 0 }));
    m.requests++;
    m.errors += failed;
    m.loaded_hits += row.loaded === 1 ? 1 : 0;
    m.cold_loads += cold;
    m.retries += row.retries;
    m.retried += row.retries > 0 ? 1 : 0;
    m.latency_us += micros(row.latency_ms);
    if (row.ttft_ms !== null) {
      m.ttft_us += micros(row.ttft_ms);
      m.ttft_count++;
    }
    if (row.queue_ms !== null) {
      m.queue_us += micros(row.queue_ms);
      m.queue_count++;
    }
    if (row.model === null) continue;
    const id = `${minute}\u0000${row.model}`;
    let mm = modelMinutes.get(id);
    if (!mm) modelMinutes.set(id, (mm = { minute, model: row.model, requests: 0, tokens_in: 0, tokens_out: 0 }));
    mm.requests++;
    mm.tokens_in += row.tokens_in ?? 0;
    mm.tokens_out += row.tokens_out ?? 0;
  }
  // One order for every writer: replicas upserting the same rows lock them in the same order, so they never deadlock.
  const sorted = <T>(map: Map<string | number, T>) => [...map].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, v]) => v);
  return { dimensions: sorted(dimensions), nodes: sorted(nodes), minutes: sorted(minutes), modelMinutes: sorted(modelMinutes) };
}

/** `t.c = t.c + excluded.c` for sums; the smaller or larger of the two for first and last times. */
const add = (table: string, column: string) => sql`${sql.ref(column)} = ${sql.ref(`${table}.${column}`)} + excluded.${sql.ref(column)}`;

/** Adds newly stored audit rows to the rollups (in the caller's transaction: the rows and their sums commit together). */
export async function addToRollups(tx: Db, rows: readonly RequestRow[]): Promise<void> {
  if (rows.length === 0) return;
  const { dimensions, nodes, minutes, modelMinutes } = rollupsOf(rows);
  for (let i = 0; i < dimensions.length; i += UPSERT_BATCH * 5) {
    await tx
      .insertInto("request_rollups")
      .values(dimensions.slice(i, i + UPSERT_BATCH * 5))
      .onConflict((oc) =>
        oc.columns(["dimension", "span_ms", "start_ms", "is_null", "name"]).doUpdateSet((eb) => ({
          requests: eb("request_rollups.requests", "+", eb.ref("excluded.requests")),
          errors: eb("request_rollups.errors", "+", eb.ref("excluded.errors")),
          tokens_in: eb("request_rollups.tokens_in", "+", eb.ref("excluded.tokens_in")),
          tokens_out: eb("request_rollups.tokens_out", "+", eb.ref("excluded.tokens_out")),
          busy_us: eb("request_rollups.busy_us", "+", eb.ref("excluded.busy_us")),
          cold_loads: eb("request_rollups.cold_loads", "+", eb.ref("excluded.cold_loads")),
          cold_ttft_us: eb("request_rollups.cold_ttft_us", "+", eb.ref("excluded.cold_ttft_us")),
          cold_ttft_count: eb("request_rollups.cold_ttft_count", "+", eb.ref("excluded.cold_ttft_count")),
          first_time: sql<number>`case when excluded.first_time < request_rollups.first_time then excluded.first_time else request_rollups.first_time end`,
          last_time: sql<number>`case when excluded.last_time > request_rollups.last_time then excluded.last_time else request_rollups.last_time end`,
        })),
      )
      .execute();
  }
  const sums = NODE_COLUMNS.slice(5);
  for (let i = 0; i < nodes.length; i += UPSERT_BATCH) {
    const values = nodes.slice(i, i + UPSERT_BATCH).map((n) => sql`(${sql.join([n.span_ms, n.start_ms, n.server, n.model, n.model_null, n.requests, n.errors, n.loaded_hits, n.cold_loads, ...n.histograms.flat()])})`);
    await sql`insert into request_node_rollups (${sql.join(NODE_COLUMNS.map((c) => sql.ref(c)))}) values ${sql.join(values)}
      on conflict (span_ms, start_ms, server, model_null, model) do update set ${sql.join(sums.map((c) => add("request_node_rollups", c)))}`.execute(tx);
  }
  for (let i = 0; i < minutes.length; i += UPSERT_BATCH * 5) {
    await tx
      .insertInto("request_minutes")
      .values(minutes.slice(i, i + UPSERT_BATCH * 5))
      .onConflict((oc) =>
        oc.column("minute").doUpdateSet((eb) => {
          const sum = (c: Exclude<keyof RequestMinuteRow, "minute">) => eb(`request_minutes.${c}`, "+", eb.ref(`excluded.${c}`));
          return {
            requests: sum("requests"), errors: sum("errors"), loaded_hits: sum("loaded_hits"), cold_loads: sum("cold_loads"), retries: sum("retries"), retried: sum("retried"),
            latency_us: sum("latency_us"), ttft_us: sum("ttft_us"), ttft_count: sum("ttft_count"), queue_us: sum("queue_us"), queue_count: sum("queue_count"),
          };
        }),
      )
      .execute();
  }
  for (let i = 0; i < modelMinutes.length; i += UPSERT_BATCH * 5) {
    await tx
      .insertInto("request_model_minutes")
      .values(modelMinutes.slice(i, i + UPSERT_BATCH * 5))
      .onConflict((oc) =>
        oc.columns(["minute", "model"]).doUpdateSet((eb) => ({
          requests: eb("request_model_minutes.requests", "+", eb.ref("excluded.requests")),
          tokens_in: eb("request_model_minutes.tokens_in", "+", eb.ref("excluded.tokens_in")),
          tokens_out: eb("request_model_minutes.tokens_out", "+", eb.ref("excluded.tokens_out")),
        })),
      )
      .execute();
  }
}

/**
 * Adds every stored audit row to the rollups, 5,000 rows at a time in time order:
 * what an upgraded database already holds, so its views answer as before. Run by
 * migration 017 on tables it has just made empty.
 */
export async function backfillRollups(db: Db, batch = 5000): Promise<number> {
  let after: { time: number; id: string } | undefined;
  let total = 0;
  for (;;) {
    let q = db.selectFrom("requests").selectAll();
    const from = after;
    if (from) q = q.where("time", ">=", from.time).where((eb) => eb.or([eb("time", ">", from.time), eb("id", ">", from.id)]));
    const rows = await q.orderBy("time").orderBy("id").limit(batch).execute();
    await addToRollups(db, rows);
    total += rows.length;
    if (rows.length < batch) return total;
    after = rows[rows.length - 1];
  }
}

/** Deletes hour and minute rollups older than ROLLUP_DETAIL_MS (per-model minutes: MODEL_MINUTES_MS); day rollups stay. */
export async function pruneRollups(db: Kysely<Database>, nowMs: number): Promise<number> {
  const before = nowMs - ROLLUP_DETAIL_MS;
  const dims = await db.deleteFrom("request_rollups").where("span_ms", "=", HOUR_MS).where("start_ms", "<", before).executeTakeFirst();
  const nodes = await sql`delete from request_node_rollups where span_ms = ${HOUR_MS} and start_ms < ${before}`.execute(db);
  const minutes = await db.deleteFrom("request_minutes").where("minute", "<", Math.floor(before / MINUTE_MS)).executeTakeFirst();
  const modelMinutes = await db.deleteFrom("request_model_minutes").where("minute", "<", Math.floor((nowMs - MODEL_MINUTES_MS) / MINUTE_MS)).executeTakeFirst();
  return Number(dims.numDeletedRows) + Number(nodes.numAffectedRows ?? 0) + Number(minutes.numDeletedRows) + Number(modelMinutes.numDeletedRows);
}

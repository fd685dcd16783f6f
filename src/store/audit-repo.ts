import type { Kysely, Transaction } from "kysely";
import { rollupStats } from "./audit-rollup-stats.js";
import { addToRollups, pruneRollups } from "./audit-rollups.js";
import type { AuditStats } from "./audit-stats.js";
import type { Dialect } from "./connect.js";
import type { Database, RequestRow, UsageRow } from "./schema.js";

/** Rows per multi-row INSERT: 500 × 21 columns stays far below SQLite's and PostgreSQL's parameter limits. */
export const INSERT_BATCH = 500;

export interface RequestQuery {
  /** rows with time >= sinceMs */
  sinceMs: number;
  keyId?: string;
  userId?: string;
  source?: string;
  model?: string;
  server?: string;
  status?: number;
  /** Only rows older than this one (newest-first order): where the previous page ended. */
  before?: { time: number; id: string };
  limit: number;
}

export interface UsageQuery {
  /** YYYY-MM-DD, inclusive */
  sinceDay: string;
  keyId?: string;
  model?: string;
}

export interface AuditRepo extends AuditStats {
  /**
   * Writes request rows (one multi-row INSERT per 500), adds the rows it stored
   * to the rollups and `usage` to the daily counts, all in one transaction. A
   * request id already stored is skipped (and not added up again), so a batch
   * retried after an unacknowledged commit does not fail for ever.
   */
  insertRequests(rows: RequestRow[], usage?: UsageRow[]): Promise<void>;
  /** Adds these counts to usage_daily (rows with the same day, model and key add up). */
  addUsage(rows: UsageRow[]): Promise<void>;
  /** Newest first (time, then id, descending): a stable order to page through. */
  listRequests(query: RequestQuery): Promise<RequestRow[]>;
  /** Deletes at most `batch` request rows older than `beforeMs`; answers how many went. */
  pruneRequests(beforeMs: number, batch: number): Promise<number>;
  /** Deletes hour and minute rollups past their horizon (92 days; day rollups stay); answers how many. */
  pruneRollups(nowMs: number): Promise<number>;
  /** By day, then model, then key. */
  usage(query: UsageQuery): Promise<UsageRow[]>;
}

export function auditRepo(db: Kysely<Database>, dialect: Dialect): AuditRepo {
  return {
    ...rollupStats(db, dialect),
    async insertRequests(rows, usage = []) {
      if (rows.length === 0 && usage.length === 0) return;
      await db.transaction().execute(async (tx) => {
        const stored = new Set<string>();
        for (let i = 0; i < rows.length; i += INSERT_BATCH) {
          const inserted = await tx
            .insertInto("requests")
            .values(rows.slice(i, i + INSERT_BATCH))
            .onConflict((oc) => oc.column("id").doNothing())
            .returning("id")
            .execute();
          for (const { id } of inserted) stored.add(id);
        }
        await addToRollups(tx, stored.size === rows.length ? rows : rows.filter((r) => stored.delete(r.id)));
        await upsertUsage(tx, usage);
      });
    },
    async addUsage(rows) {
      if (rows.length > 0) await db.transaction().execute((tx) => upsertUsage(tx, rows));
    },
    listRequests(query) {
      let q = db.selectFrom("requests").selectAll().where("time", ">=", query.sinceMs);
      if (query.keyId !== undefined) q = q.where("key_id", "=", query.keyId);
      if (query.userId !== undefined) q = q.where("user_id", "=", query.userId);
      if (query.source !== undefined) q = q.where("source", "=", query.source);
      if (query.model !== undefined) q = q.where("model", "=", query.model);
      if (query.server !== undefined) q = q.where("server", "=", query.server);
      if (query.status !== undefined) q = q.where("status", "=", query.status);
      const before = query.before;
      // `time <= t` first, so the time index bounds the scan; the OR only settles ties within one millisecond.
      if (before) q = q.where("time", "<=", before.time).where((eb) => eb.or([eb("time", "<", before.time), eb("id", "<", before.id)]));
      return q.orderBy("time", "desc").orderBy("id", "desc").limit(query.limit).execute();
    },
    async pruneRequests(beforeMs, batch) {
      const result = await db
        .deleteFrom("requests")
        .where("id", "in", (eb) => eb.selectFrom("requests").select("id").where("time", "<", beforeMs).limit(batch))
        .executeTakeFirst();
      return Number(result.numDeletedRows);
    },
    pruneRollups(nowMs) {
      return pruneRollups(db, nowMs);
    },
    usage(query) {
      let q = db.selectFrom("usage_daily").selectAll().where("day", ">=", query.sinceDay);
      if (query.keyId !== undefined) q = q.where("key_id", "=", query.keyId);
      if (query.model !== undefined) q = q.where("model", "=", query.model);
      return q.orderBy("day").orderBy("model").orderBy("key_id").execute();
    },
  };
}

/**
 * INSERT … ON CONFLICT (day, model, key_id) DO UPDATE SET n = usage_daily.n + excluded.n.
 * Rows for one key are merged first: PostgreSQL refuses to update a row twice in one statement.
 */
async function upsertUsage(tx: Transaction<Database>, rows: UsageRow[]): Promise<void> {
  const merged = mergeUsage(rows);
  for (let i = 0; i < merged.length; i += INSERT_BATCH) {
    await tx
      .insertInto("usage_daily")
      .values(merged.slice(i, i + INSERT_BATCH))
      .onConflict((oc) =>
        oc.columns(["day", "model", "key_id"]).doUpdateSet((eb) => ({
          requests: eb("usage_daily.requests", "+", eb.ref("excluded.requests")),
          tokens_in: eb("usage_daily.tokens_in", "+", eb.ref("excluded.tokens_in")),
          tokens_out: eb("usage_daily.tokens_out", "+", eb.ref("excluded.tokens_out")),
          errors: eb("usage_daily.errors", "+", eb.ref("excluded.errors")),
        })),
      )
      .execute();
  }
}

function mergeUsage(rows: UsageRow[]): UsageRow[] {
  const byKey = new Map<string, UsageRow>();
  for (const row of rows) {
    const id = `${row.day}\u0000${row.model}\u0000${row.key_id}`;
    const seen = byKey.get(id);
    if (!seen) byKey.set(id, { ...row });
    else {
      seen.requests += row.requests;
      seen.tokens_in += row.tokens_in;
      seen.tokens_out += row.tokens_out;
      seen.errors += row.errors;
    }
  }
  return [...byKey.values()];
}

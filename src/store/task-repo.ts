import { sql, type Kysely } from "kysely";
import type { Dialect } from "./connect.js";
import type { Database, QueueWorkerRow, TaskRow, TaskState } from "./schema.js";

export interface TaskEnd {
  /** `failed` here is for a task that no retry could help (its input is wrong). */
  state: "completed" | "cancelled" | "failed";
  result?: string | null;
  error?: string | null;
}

export interface QueueCounts {
  counts: Partial<Record<TaskState, number>>;
  /** tasks completed in the last minute */
  completedLastMinute: number;
  /** when the oldest task ready to run was made, if any waits */
  oldestReadyAt: number | null;
}

/** The job queue's SQL backend: the same statements on SQLite and PostgreSQL. */
export interface TaskRepo {
  insert(rows: TaskRow[]): Promise<void>;
  /**
   * Leases the next ready task of `queue` (oldest first) to `owner`, for its
   * timeout plus `graceMs`; two claims never get the same task.
   */
  claim(queue: string, owner: string, now: number, graceMs: number): Promise<TaskRow | undefined>;
  /** Up to `limit` claims at once, in claim order. */
  claimUpTo(queue: string, owner: string, now: number, graceMs: number, limit: number): Promise<TaskRow[]>;
  /** Extends a lease; says whether it is still held, and whether a cancel was asked for. */
  heartbeat(id: string, owner: string, leaseUntil: number, now: number): Promise<{ held: boolean; cancelRequested: boolean }>;
  /** Ends a task its owner holds, giving back the ended row; undefined when the lease was lost meanwhile. */
  finish(id: string, owner: string, end: TaskEnd, now: number): Promise<TaskRow | undefined>;
  /** A failed attempt: retried at `retryAt` while attempts remain, else failed or archived (dead letter). The row after it; undefined when the lease was lost meanwhile. */
  failAttempt(id: string, owner: string, error: string, retryAt: number, now: number): Promise<TaskRow | undefined>;
  /** Failed attempts of every task whose lease ran out (its consumer died). Returns how many. */
  expireLeases(now: number): Promise<number>;
  /** A waiting task is cancelled at once; an active one is asked to stop. Undefined when there is no such task. */
  cancel(id: string, now: number): Promise<TaskRow | undefined>;
  get(id: string): Promise<TaskRow | undefined>;
  /** Newest first. */
  list(queue: string, state: TaskState | undefined, limit: number, offset: number): Promise<TaskRow[]>;
  remove(id: string): Promise<boolean>;
  counts(queue: string, now: number): Promise<QueueCounts>;
  setPaused(queue: string, paused: boolean, now: number): Promise<void>;
  pausedQueues(): Promise<Set<string>>;
  /** A worker registers (again): its queue and times; its counts stay. */
  registerWorker(id: string, queue: string, now: number): Promise<void>;
  /** A worker was heard from; what it runs now (null: nothing), and what it finished. */
  touchWorker(id: string, now: number, change: { currentTask?: string | null; completed?: number; failed?: number }): Promise<void>;
  workers(): Promise<QueueWorkerRow[]>;
  worker(id: string): Promise<QueueWorkerRow | undefined>;
}

/** Ready to run, as a literal: the text of the claim index's predicate (migration 006), so the planner can use it. */
const READY = sql<boolean>`state in ('pending', 'scheduled', 'retry')`;

/** What an attempt that failed for the last time becomes. */
const OUT_OF_ATTEMPTS = sql<TaskState>`case when dead_letter = 1 then 'archived' else 'failed' end`;

export function taskRepo(db: Kysely<Database>, dialect: Dialect): TaskRepo {
  // PostgreSQL's concurrent claims skip each other's rows; SQLite runs one writer at a time anyway.
  const lockNext = dialect === "postgres" ? sql`for update skip locked` : sql``;
  const repo: TaskRepo = {
    async insert(rows) {
      if (rows.length > 0) await db.insertInto("tasks").values(rows).execute();
    },
    async claim(queue, owner, now, graceMs) {
      return (await repo.claimUpTo(queue, owner, now, graceMs, 1))[0];
    },
    async claimUpTo(queue, owner, now, graceMs, limit) {
      const next = db
        .selectFrom("tasks")
        .select("id")
        .where("queue", "=", queue)
        .where(READY)
        .where("run_at", "<=", now)
        .orderBy("run_at")
        .orderBy("created_at")
        .orderBy("id")
        .limit(limit);
      const { rows } = await sql<TaskRow>`
        update tasks set state = 'active', lease_owner = ${owner}, lease_until = ${now} + timeout_ms + ${graceMs},
          attempts = attempts + 1, started_at = ${now}, updated_at = ${now}
        where id in (${next} ${lockNext}) returning *`.execute(db);
      // RETURNING keeps no order; run_at, created_at and id are as they were when claimed.
      return rows.sort((a, b) => a.run_at - b.run_at || a.created_at - b.created_at || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    },
    async heartbeat(id, owner, leaseUntil, now) {
      const row = await db
        .updateTable("tasks")
        .set({ lease_until: leaseUntil, updated_at: now })
        .where("id", "=", id)
        .where("lease_owner", "=", owner)
        .where("state", "=", "active")
        .returning("cancel_requested")
        .executeTakeFirst();
      return { held: row !== undefined, cancelRequested: row?.cancel_requested === 1 };
    },
    finish: (id, owner, end, now) =>
      db
        .updateTable("tasks")
        .set({ state: end.state, result: end.result ?? null, error: end.error ?? null, lease_owner: null, lease_until: null, finished_at: now, updated_at: now })
        .where("id", "=", id)
        .where("lease_owner", "=", owner)
        .where("state", "=", "active")
        .returningAll()
        .executeTakeFirst(),
    async failAttempt(id, owner, error, retryAt, now) {
      const { rows } = await sql<TaskRow>`
        update tasks set state = case when attempts >= max_attempts then ${OUT_OF_ATTEMPTS} else 'retry' end,
          finished_at = case when attempts >= max_attempts then cast(${now} as bigint) else null end,
          run_at = ${retryAt}, error = ${error}, lease_owner = null, lease_until = null, updated_at = ${now}
        where id = ${id} and lease_owner = ${owner} and state = 'active' returning *`.execute(db);
      return rows[0];
    },
    async expireLeases(now) {
      const result = await sql`
        update tasks set state = case when attempts >= max_attempts then ${OUT_OF_ATTEMPTS} else 'retry' end,
          finished_at = case when attempts >= max_attempts then cast(${now} as bigint) else null end,
          error = 'the consumer holding it stopped answering (lease expired)', run_at = ${now},
          lease_owner = null, lease_until = null, updated_at = ${now}
        where state = 'active' and lease_until < ${now}`.execute(db);
      return Number(result.numAffectedRows ?? 0n);
    },
    async cancel(id, now) {
      await db.updateTable("tasks").set({ state: "cancelled", finished_at: now, updated_at: now }).where("id", "=", id).where(READY).execute();
      await db.updateTable("tasks").set({ cancel_requested: 1, updated_at: now }).where("id", "=", id).where("state", "=", "active").execute();
      return db.selectFrom("tasks").selectAll().where("id", "=", id).executeTakeFirst();
    },
    get: (id) => db.selectFrom("tasks").selectAll().where("id", "=", id).executeTakeFirst(),
    list(queue, state, limit, offset) {
      let q = db.selectFrom("tasks").selectAll().where("queue", "=", queue);
      if (state) q = q.where("state", "=", state);
      return q.orderBy("created_at", "desc").orderBy("id", "desc").limit(limit).offset(offset).execute();
    },
    async remove(id) {
      const result = await db.deleteFrom("tasks").where("id", "=", id).executeTakeFirst();
      return result.numDeletedRows > 0n;
    },
    async counts(queue, now) {
      const byState = await db.selectFrom("tasks").select(["state", (eb) => eb.fn.countAll<number>().as("n")]).where("queue", "=", queue).groupBy("state").execute();
      const recent = await db
        .selectFrom("tasks")
        .select((eb) => eb.fn.countAll<number>().as("n"))
        .where("queue", "=", queue)
        .where("state", "=", "completed")
        .where("finished_at", ">=", now - 60_000)
        .executeTakeFirstOrThrow();
      const oldest = await db
        .selectFrom("tasks")
        .select((eb) => eb.fn.min<number>("created_at").as("t"))
        .where("queue", "=", queue)
        .where(READY)
        .where("run_at", "<=", now)
        .executeTakeFirst();
      return {
        counts: Object.fromEntries(byState.map((r) => [r.state, Number(r.n)])),
        completedLastMinute: Number(recent.n),
        oldestReadyAt: oldest?.t === null || oldest?.t === undefined ? null : Number(oldest.t),
      };
    },
    async setPaused(queue, paused, now) {
      const row = { name: queue, paused: paused ? 1 : 0, updated_at: now };
      await db.insertInto("queue_state").values(row).onConflict((oc) => oc.column("name").doUpdateSet({ paused: row.paused, updated_at: now })).execute();
    },
    async registerWorker(id, queue, now) {
      await db
        .insertInto("queue_workers")
        .values({ id, queue, registered_at: now, last_seen: now, current_task: null, completed: 0, failed: 0 })
        .onConflict((oc) => oc.column("id").doUpdateSet({ queue, registered_at: now, last_seen: now, current_task: null }))
        .execute();
    },
    async touchWorker(id, now, change) {
      await db
        .updateTable("queue_workers")
        .set((eb) => ({
          last_seen: now,
          ...(change.currentTask !== undefined ? { current_task: change.currentTask } : {}),
          ...(change.completed ? { completed: eb("completed", "+", change.completed) } : {}),
          ...(change.failed ? { failed: eb("failed", "+", change.failed) } : {}),
        }))
        .where("id", "=", id)
        .execute();
    },
    workers: () => db.selectFrom("queue_workers").selectAll().orderBy("queue").orderBy("id").execute(),
    worker: (id) => db.selectFrom("queue_workers").selectAll().where("id", "=", id).executeTakeFirst(),
    async pausedQueues() {
      const rows = await db.selectFrom("queue_state").select("name").where("paused", "=", 1).execute();
      return new Set(rows.map((r) => r.name));
    },
  };
  return repo;
}

import type { Kysely } from "kysely";
import type { Database, ScheduledJobRow } from "./schema.js";

export type ScheduledJobChange = Partial<Pick<ScheduledJobRow, "name" | "cron" | "timezone" | "model" | "node" | "duration_ms" | "action" | "enabled">>;
export type ScheduledRunOutcome = Pick<ScheduledJobRow, "last_run_at" | "last_run_status" | "last_run_error" | "last_run_result">;

export interface ScheduledJobRepo {
  insert(row: ScheduledJobRow): Promise<void>;
  get(id: string): Promise<ScheduledJobRow | undefined>;
  /** Every job, oldest first. */
  list(): Promise<ScheduledJobRow[]>;
  listEnabled(): Promise<ScheduledJobRow[]>;
  count(): Promise<number>;
  /** The jobs imported from these origins. */
  withOrigins(origins: string[]): Promise<ScheduledJobRow[]>;
  /** false when there is no such job. */
  change(id: string, change: ScheduledJobChange, now: number): Promise<boolean>;
  /** Removes the job and its run leases; false when there was no such job. */
  remove(id: string): Promise<boolean>;
  /** Records how a run went, unless a later run was recorded already (replicas may finish out of order). */
  recordRun(id: string, outcome: ScheduledRunOutcome & { last_run_at: number }): Promise<void>;
  /**
   * Takes the lease on the run of `jobId` at `runAt` for `owner`: true for the one
   * caller (of any replica on this database) whose insert made the row.
   */
  claimRun(jobId: string, runAt: number, owner: string, now: number): Promise<boolean>;
  /** Forgets leases on runs before `before`; the number removed. */
  pruneRuns(before: number): Promise<number>;
}

const ORIGIN_BATCH = 500;

export function scheduledJobRepo(db: Kysely<Database>): ScheduledJobRepo {
  return {
    async insert(row) {
      await db.insertInto("scheduled_jobs").values(row).execute();
    },
    async get(id) {
      return db.selectFrom("scheduled_jobs").selectAll().where("id", "=", id).executeTakeFirst();
    },
    async list() {
      return db.selectFrom("scheduled_jobs").selectAll().orderBy("created_at").orderBy("id").execute();
    },
    async listEnabled() {
      return db.selectFrom("scheduled_jobs").selectAll().where("enabled", "=", 1).orderBy("created_at").orderBy("id").execute();
    },
    async count() {
      const row = await db.selectFrom("scheduled_jobs").select((eb) => eb.fn.countAll<string | number>().as("n")).executeTakeFirstOrThrow();
      return Number(row.n);
    },
    async withOrigins(origins) {
      const rows: ScheduledJobRow[] = [];
      for (let i = 0; i < origins.length; i += ORIGIN_BATCH) {
        const batch = origins.slice(i, i + ORIGIN_BATCH);
        rows.push(...(await db.selectFrom("scheduled_jobs").selectAll().where("origin", "in", batch).execute()));
      }
      return rows;
    },
    async change(id, change, now) {
      const result = await db.updateTable("scheduled_jobs").set({ ...change, updated_at: now }).where("id", "=", id).executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    },
    async remove(id) {
      await db.deleteFrom("scheduled_runs").where("job_id", "=", id).execute();
      const result = await db.deleteFrom("scheduled_jobs").where("id", "=", id).executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },
    async recordRun(id, outcome) {
      await db
        .updateTable("scheduled_jobs")
        .set(outcome)
        .where("id", "=", id)
        .where((eb) => eb.or([eb("last_run_at", "is", null), eb("last_run_at", "<=", outcome.last_run_at)]))
        .execute();
    },
    async claimRun(jobId, runAt, owner, now) {
      const result = await db
        .insertInto("scheduled_runs")
        .values({ job_id: jobId, run_at: runAt, owner, claimed_at: now })
        .onConflict((oc) => oc.columns(["job_id", "run_at"]).doNothing())
        .executeTakeFirst();
      return Number(result.numInsertedOrUpdatedRows ?? 0) === 1;
    },
    async pruneRuns(before) {
      const result = await db.deleteFrom("scheduled_runs").where("run_at", "<", before).executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}

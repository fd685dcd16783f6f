import type { Kysely } from "kysely";

/**
 * Seed 004's scheduled jobs: each job's cron, timezone, model, node, expected
 * run time and action (JSON), where it came from (`origin`: a Docker container
 * it was imported from, or null), and how its last run went. `scheduled_runs`
 * holds one lease per (job, run time): replicas sharing the database insert
 * the same key for the same run, and only the insert that wins fires it.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("scheduled_jobs")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("name", "text", (c) => c.notNull())
    .addColumn("cron", "text", (c) => c.notNull())
    .addColumn("timezone", "text", (c) => c.notNull())
    .addColumn("model", "text", (c) => c.notNull())
    .addColumn("node", "text")
    .addColumn("duration_ms", "bigint", (c) => c.notNull())
    .addColumn("action", "text", (c) => c.notNull())
    .addColumn("enabled", "integer", (c) => c.notNull().defaultTo(1))
    .addColumn("origin", "text")
    .addColumn("last_run_at", "bigint")
    .addColumn("last_run_status", "text")
    .addColumn("last_run_error", "text")
    .addColumn("last_run_result", "text")
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("updated_at", "bigint", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("scheduled_jobs_origin").on("scheduled_jobs").column("origin").execute();
  await db.schema
    .createTable("scheduled_runs")
    .addColumn("job_id", "text", (c) => c.notNull())
    .addColumn("run_at", "bigint", (c) => c.notNull())
    .addColumn("owner", "text", (c) => c.notNull())
    .addColumn("claimed_at", "bigint", (c) => c.notNull())
    .addPrimaryKeyConstraint("scheduled_runs_pk", ["job_id", "run_at"])
    .execute();
  await db.schema.createIndex("scheduled_runs_run_at").on("scheduled_runs").column("run_at").execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable("scheduled_runs").execute();
  await db.schema.dropTable("scheduled_jobs").execute();
}

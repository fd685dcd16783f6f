import type { Kysely } from "kysely";

/**
 * The job queue's SQL backend: tasks with their lease (a worker's claim with
 * an expiry, so a task held by a dead worker is retried), the queue workers
 * that registered, and whether each queue is paused, shared by every replica.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("tasks")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("queue", "text", (c) => c.notNull())
    .addColumn("state", "text", (c) => c.notNull())
    .addColumn("data", "text", (c) => c.notNull())
    .addColumn("result", "text")
    .addColumn("error", "text")
    .addColumn("attempts", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("max_attempts", "integer", (c) => c.notNull())
    .addColumn("dead_letter", "integer", (c) => c.notNull().defaultTo(1))
    .addColumn("timeout_ms", "bigint", (c) => c.notNull())
    .addColumn("run_at", "bigint", (c) => c.notNull())
    .addColumn("lease_owner", "text")
    .addColumn("lease_until", "bigint")
    .addColumn("cancel_requested", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("user_id", "text")
    .addColumn("key_id", "text")
    .addColumn("webhook_url", "text")
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("updated_at", "bigint", (c) => c.notNull())
    .addColumn("started_at", "bigint")
    .addColumn("finished_at", "bigint")
    .execute();
  await db.schema.createIndex("tasks_ready").on("tasks").columns(["queue", "state", "run_at"]).execute();
  await db.schema.createIndex("tasks_leases").on("tasks").columns(["state", "lease_until"]).execute();
  await db.schema.createIndex("tasks_queue_created").on("tasks").columns(["queue", "created_at"]).execute();

  await db.schema
    .createTable("queue_workers")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("queue", "text", (c) => c.notNull())
    .addColumn("registered_at", "bigint", (c) => c.notNull())
    .addColumn("last_seen", "bigint", (c) => c.notNull())
    .addColumn("current_task", "text")
    .addColumn("completed", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("failed", "integer", (c) => c.notNull().defaultTo(0))
    .execute();

  await db.schema
    .createTable("queue_state")
    .addColumn("name", "text", (c) => c.primaryKey())
    .addColumn("paused", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("updated_at", "bigint", (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable("queue_workers").execute();
  await db.schema.dropTable("queue_state").execute();
  await db.schema.dropTable("tasks").execute();
}

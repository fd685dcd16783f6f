import type { Kysely } from "kysely";

/**
 * What happened in the fleet (models loaded and unloaded, servers online,
 * offline, rebooted, drained), machine samples per node, model transfers
 * (pulls with their progress), a server's node-exporter address, and the fleet
 * settings an admin changes at run time (routing mode, fallback), shared by replicas.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("events")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("time", "bigint", (c) => c.notNull())
    .addColumn("kind", "text", (c) => c.notNull())
    .addColumn("node", "text", (c) => c.notNull())
    .addColumn("model", "text")
    .addColumn("detail", "text")
    .execute();
  await db.schema.createIndex("events_time").on("events").column("time").execute();
  await db.schema.createIndex("events_node_time").on("events").columns(["node", "time"]).execute();

  await db.schema
    .createTable("system_samples")
    .addColumn("node", "text", (c) => c.notNull())
    .addColumn("time", "bigint", (c) => c.notNull())
    .addColumn("cpu_cores", "integer")
    .addColumn("cpu_load_1m", "double precision")
    .addColumn("memory_total_bytes", "bigint")
    .addColumn("memory_free_bytes", "bigint")
    .addColumn("gpus", "text")
    .addPrimaryKeyConstraint("system_samples_pk", ["node", "time"])
    .execute();
  await db.schema.createIndex("system_samples_time").on("system_samples").column("time").execute();

  await db.schema
    .createTable("transfers")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("model", "text", (c) => c.notNull())
    .addColumn("node", "text", (c) => c.notNull())
    .addColumn("source", "text", (c) => c.notNull())
    .addColumn("status", "text", (c) => c.notNull())
    .addColumn("stage", "text")
    .addColumn("completed_bytes", "bigint", (c) => c.notNull().defaultTo(0))
    .addColumn("total_bytes", "bigint", (c) => c.notNull().defaultTo(0))
    .addColumn("error", "text")
    .addColumn("cancel_requested", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("updated_at", "bigint", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("transfers_created").on("transfers").column("created_at").execute();

  await db.schema.alterTable("servers").addColumn("node_exporter_url", "text").execute();

  await db.schema
    .createTable("fleet_settings")
    .addColumn("name", "text", (c) => c.primaryKey())
    .addColumn("value", "text", (c) => c.notNull())
    .addColumn("updated_at", "bigint", (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable("servers").dropColumn("node_exporter_url").execute();
  await db.schema.dropTable("transfers").execute();
  await db.schema.dropTable("fleet_settings").execute();
  await db.schema.dropTable("system_samples").execute();
  await db.schema.dropTable("events").execute();
}

import type { Kysely } from "kysely";

/**
 * What the operations views need from each audit row beyond what 001 kept:
 * the user behind the key (or session), and how the request was routed —
 * whether its server had the model loaded when it was chosen, by what rule it
 * was chosen (best, pin, affinity, fallback), why earlier attempts failed, and
 * how long it waited for a free slot. The indexes serve /api/requests' filters
 * newest first, and the retention's delete by time.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  // One column per statement: SQLite adds one at a time.
  await db.schema.alterTable("requests").addColumn("user_id", "text").execute();
  await db.schema.alterTable("requests").addColumn("loaded", "integer").execute();
  await db.schema.alterTable("requests").addColumn("route", "text").execute();
  await db.schema.alterTable("requests").addColumn("retry_reasons", "text").execute();
  await db.schema.alterTable("requests").addColumn("queue_ms", "double precision").execute();
  await db.schema.createIndex("requests_user_time").on("requests").columns(["user_id", "time"]).execute();
  await db.schema.createIndex("requests_source_time").on("requests").columns(["source", "time"]).execute();
  await db.schema.createIndex("requests_server_time").on("requests").columns(["server", "time"]).execute();
  await db.schema.createIndex("requests_status_time").on("requests").columns(["status", "time"]).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const index of ["requests_status_time", "requests_server_time", "requests_source_time", "requests_user_time"]) await db.schema.dropIndex(index).execute();
  for (const column of ["queue_ms", "retry_reasons", "route", "loaded", "user_id"]) await db.schema.alterTable("requests").dropColumn(column).execute();
}

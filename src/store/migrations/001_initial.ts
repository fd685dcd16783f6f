import type { Kysely } from "kysely";

/** Servers, API keys, the request audit log and daily usage — indexed for per-key and per-model queries from the start. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("servers")
    .addColumn("name", "text", (c) => c.primaryKey())
    .addColumn("url", "text", (c) => c.notNull())
    .addColumn("kind", "text")
    .addColumn("api_key", "text")
    .addColumn("max_concurrency", "integer")
    .addColumn("vram_bytes", "bigint")
    .addColumn("drained", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("source", "text", (c) => c.notNull())
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("updated_at", "bigint", (c) => c.notNull())
    .execute();

  await db.schema
    .createTable("api_keys")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("name", "text", (c) => c.notNull())
    .addColumn("prefix", "text", (c) => c.notNull())
    .addColumn("hash", "text", (c) => c.notNull().unique())
    .addColumn("role", "text", (c) => c.notNull())
    .addColumn("scopes", "text", (c) => c.notNull())
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("expires_at", "bigint")
    .addColumn("last_used_at", "bigint")
    .addColumn("revoked_at", "bigint")
    .execute();

  await db.schema
    .createTable("requests")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("time", "bigint", (c) => c.notNull())
    .addColumn("key_id", "text")
    .addColumn("source", "text")
    .addColumn("surface", "text", (c) => c.notNull())
    .addColumn("method", "text", (c) => c.notNull())
    .addColumn("path", "text", (c) => c.notNull())
    .addColumn("model", "text")
    .addColumn("server", "text")
    .addColumn("status", "integer", (c) => c.notNull())
    .addColumn("latency_ms", "double precision", (c) => c.notNull())
    .addColumn("ttft_ms", "double precision")
    .addColumn("tokens_in", "integer")
    .addColumn("tokens_out", "integer")
    .addColumn("retries", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("error", "text")
    .execute();
  await db.schema.createIndex("requests_key_time").on("requests").columns(["key_id", "time"]).execute();
  await db.schema.createIndex("requests_model_time").on("requests").columns(["model", "time"]).execute();
  await db.schema.createIndex("requests_time").on("requests").column("time").execute();

  await db.schema
    .createTable("usage_daily")
    .addColumn("day", "text", (c) => c.notNull())
    .addColumn("model", "text", (c) => c.notNull())
    .addColumn("key_id", "text", (c) => c.notNull())
    .addColumn("requests", "bigint", (c) => c.notNull().defaultTo(0))
    .addColumn("tokens_in", "bigint", (c) => c.notNull().defaultTo(0))
    .addColumn("tokens_out", "bigint", (c) => c.notNull().defaultTo(0))
    .addColumn("errors", "bigint", (c) => c.notNull().defaultTo(0))
    .addPrimaryKeyConstraint("usage_daily_pk", ["day", "model", "key_id"])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ["usage_daily", "requests", "api_keys", "servers"]) await db.schema.dropTable(table).execute();
}

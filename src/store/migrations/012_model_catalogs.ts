import type { Kysely } from "kysely";

/**
 * Jan's model catalogs over the fleet: what an admin set for one model across
 * the fleet (`model_catalogs`, by model key) and for one model on one node
 * (`provider_models`). What the fleet reports is never stored; a row exists
 * only once an admin changed something, and outlives the model's leaving.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("model_catalogs")
    .addColumn("model_key", "text", (c) => c.primaryKey())
    .addColumn("name", "text", (c) => c.notNull())
    .addColumn("edits", "text", (c) => c.notNull())
    .addColumn("edited", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("active", "integer", (c) => c.notNull().defaultTo(1))
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("updated_at", "bigint", (c) => c.notNull())
    .execute();
  await db.schema
    .createTable("provider_models")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("node", "text", (c) => c.notNull())
    .addColumn("model_key", "text", (c) => c.notNull())
    .addColumn("name", "text", (c) => c.notNull())
    .addColumn("edits", "text", (c) => c.notNull())
    .addColumn("active", "integer", (c) => c.notNull().defaultTo(1))
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("updated_at", "bigint", (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable("provider_models").execute();
  await db.schema.dropTable("model_catalogs").execute();
}

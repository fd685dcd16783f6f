import type { Kysely } from "kysely";

/**
 * Seed 002's media (`jan_*` ids): one row per uploaded object, its bytes in
 * the media store (the data dir or an S3 bucket) under `storage_key`. A row
 * made by a presigned upload is `pending` until its bytes arrive and pass the
 * content check; `sha256` lets an owner's same upload be answered with the
 * media they already have.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("media")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("owner", "text", (c) => c.notNull())
    .addColumn("status", "text", (c) => c.notNull())
    .addColumn("mime", "text", (c) => c.notNull())
    .addColumn("bytes", "bigint", (c) => c.notNull())
    .addColumn("sha256", "text")
    .addColumn("filename", "text")
    .addColumn("storage_key", "text", (c) => c.notNull())
    .addColumn("upload_expires_at", "bigint")
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("media_owner_sha256").on("media").columns(["owner", "sha256"]).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable("media").execute();
}

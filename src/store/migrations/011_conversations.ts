import type { Kysely } from "kysely";

/**
 * Seed 002's conversations (OpenAI's Conversations API with Jan's fields):
 * each owner's conversations, their items in order on branches (MAIN is the
 * conversation as shown; an edit keeps the old MAIN as a backup branch, as
 * Jan does), read-only shares holding a snapshot taken when shared, and
 * projects that group conversations and carry an instruction.
 * `next_position` hands out item positions: moved in the same write that
 * appends, so two appends at once never take the same one.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("conversations")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("owner", "text", (c) => c.notNull())
    .addColumn("title", "text")
    .addColumn("project_id", "text")
    .addColumn("referrer", "text")
    .addColumn("metadata", "text", (c) => c.notNull())
    .addColumn("next_position", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("updated_at", "bigint", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("conversations_owner").on("conversations").columns(["owner", "created_at"]).execute();
  await db.schema.createIndex("conversations_project").on("conversations").columns(["owner", "project_id", "created_at"]).execute();

  await db.schema
    .createTable("conversation_items")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("conversation_id", "text", (c) => c.notNull())
    .addColumn("branch", "text", (c) => c.notNull())
    .addColumn("position", "integer", (c) => c.notNull())
    .addColumn("type", "text", (c) => c.notNull())
    .addColumn("role", "text")
    .addColumn("call_id", "text")
    .addColumn("body", "text", (c) => c.notNull())
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("conversation_items_order").on("conversation_items").columns(["conversation_id", "branch", "position"]).unique().execute();
  await db.schema.createIndex("conversation_items_call").on("conversation_items").columns(["conversation_id", "call_id"]).execute();

  await db.schema
    .createTable("conversation_shares")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("slug", "text", (c) => c.notNull().unique())
    .addColumn("owner", "text", (c) => c.notNull())
    .addColumn("conversation_id", "text", (c) => c.notNull())
    .addColumn("item_id", "text")
    .addColumn("title", "text")
    .addColumn("options", "text", (c) => c.notNull())
    .addColumn("snapshot", "text", (c) => c.notNull())
    .addColumn("view_count", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("last_viewed_at", "bigint")
    .addColumn("revoked_at", "bigint")
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("updated_at", "bigint", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("conversation_shares_conversation").on("conversation_shares").columns(["conversation_id", "created_at"]).execute();

  await db.schema
    .createTable("projects")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("owner", "text", (c) => c.notNull())
    .addColumn("name", "text", (c) => c.notNull())
    .addColumn("instruction", "text")
    .addColumn("favorite", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("archived_at", "bigint")
    .addColumn("deleted_at", "bigint")
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("updated_at", "bigint", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("projects_owner").on("projects").columns(["owner", "created_at"]).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ["projects", "conversation_shares", "conversation_items", "conversations"]) await db.schema.dropTable(table).execute();
}

import type { Kysely } from "kysely";

/**
 * What an admin set for an MCP tool (Jan Server's admin_mcp_tools, keyed by
 * the tool's namespaced name): a description and category shown instead of
 * the tool's own, whether it is offered, and its filters. Tools come and go
 * with their relays; a row is written when an admin first changes one, and
 * outlives the tool, so it applies again when the tool comes back. And which
 * MCP tools an API key may use: a named tool set, or patterns of its own.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("mcp_tools")
    .addColumn("tool_key", "text", (c) => c.primaryKey())
    .addColumn("description", "text")
    .addColumn("category", "text")
    .addColumn("is_active", "integer", (c) => c.notNull().defaultTo(1))
    .addColumn("metadata", "text")
    .addColumn("disallowed_keywords", "text")
    .addColumn("max_result_bytes", "bigint")
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("updated_at", "bigint", (c) => c.notNull())
    .execute();
  await db.schema
    .createTable("mcp_key_access")
    .addColumn("key_id", "text", (c) => c.primaryKey())
    .addColumn("tool_set", "text")
    .addColumn("tools", "text")
    .addColumn("updated_at", "bigint", (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable("mcp_key_access").execute();
  await db.schema.dropTable("mcp_tools").execute();
}

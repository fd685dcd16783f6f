import type { Kysely } from "kysely";
import type { Database, McpToolRow } from "./schema.js";

/** What an admin may change; a field left undefined keeps its value, null clears it. */
export interface McpToolChange {
  description?: string | null;
  category?: string | null;
  is_active?: boolean;
  metadata?: Record<string, unknown> | null;
  disallowed_keywords?: string[] | null;
  max_result_bytes?: number | null;
}

/** An admin's settings for one tool, as read back. */
export interface McpToolSettings {
  tool_key: string;
  description: string | null;
  category: string | null;
  is_active: boolean;
  metadata: Record<string, unknown> | null;
  disallowed_keywords: string[];
  max_result_bytes: number | null;
  created_at: number;
  updated_at: number;
}

export interface McpToolRepo {
  all(): Promise<McpToolSettings[]>;
  get(toolKey: string): Promise<McpToolSettings | undefined>;
  /** Applies a change, creating the row on the first one; answers the row as it now is. */
  change(toolKey: string, change: McpToolChange): Promise<McpToolSettings>;
}

export function mcpToolRepo(db: Kysely<Database>): McpToolRepo {
  const get = async (toolKey: string) => {
    const row = await db.selectFrom("mcp_tools").selectAll().where("tool_key", "=", toolKey).executeTakeFirst();
    return row && settingsOf(row);
  };
  return {
    async all() {
      return (await db.selectFrom("mcp_tools").selectAll().orderBy("tool_key").execute()).map(settingsOf);
    },
    get,
    async change(toolKey, change) {
      const now = Date.now();
      const set: Partial<McpToolRow> = { updated_at: now };
      if (change.description !== undefined) set.description = change.description;
      if (change.category !== undefined) set.category = change.category;
      if (change.is_active !== undefined) set.is_active = change.is_active ? 1 : 0;
      if (change.metadata !== undefined) set.metadata = change.metadata === null ? null : JSON.stringify(change.metadata);
      if (change.disallowed_keywords !== undefined) set.disallowed_keywords = change.disallowed_keywords === null ? null : JSON.stringify(change.disallowed_keywords);
      if (change.max_result_bytes !== undefined) set.max_result_bytes = change.max_result_bytes;
      const fresh: McpToolRow = {
        tool_key: toolKey,
        description: null,
        category: null,
        is_active: 1,
        metadata: null,
        disallowed_keywords: null,
        max_result_bytes: null,
        created_at: now,
        ...set,
        updated_at: now,
      };
      await db
        .insertInto("mcp_tools")
        .values(fresh)
        .onConflict((oc) => oc.column("tool_key").doUpdateSet(set))
        .execute();
      return (await get(toolKey)) as McpToolSettings;
    },
  };
}

function settingsOf(row: McpToolRow): McpToolSettings {
  return {
    tool_key: row.tool_key,
    description: row.description,
    category: row.category,
    is_active: Number(row.is_active) === 1,
    metadata: row.metadata === null ? null : (JSON.parse(row.metadata) as Record<string, unknown>),
    disallowed_keywords: row.disallowed_keywords === null ? [] : (JSON.parse(row.disallowed_keywords) as string[]),
    max_result_bytes: row.max_result_bytes === null ? null : Number(row.max_result_bytes),
    created_at: Number(row.created_at),
    updated_at: Number(row.updated_at),
  };
}

/** Which MCP tools a key may use: those of a named tool set, or those its own patterns match. */
export type McpKeyAccess = { tool_set: string; tools?: undefined } | { tools: string[]; tool_set?: undefined };

export interface McpKeyAccessRepo {
  get(keyId: string): Promise<McpKeyAccess | undefined>;
  set(keyId: string, access: McpKeyAccess): Promise<void>;
  /** Answers whether there was a rule to remove. */
  remove(keyId: string): Promise<boolean>;
}

export function mcpKeyAccessRepo(db: Kysely<Database>): McpKeyAccessRepo {
  return {
    async get(keyId) {
      const row = await db.selectFrom("mcp_key_access").selectAll().where("key_id", "=", keyId).executeTakeFirst();
      if (!row) return undefined;
      return row.tool_set !== null ? { tool_set: row.tool_set } : { tools: JSON.parse(row.tools ?? "[]") as string[] };
    },
    async set(keyId, access) {
      const row = { key_id: keyId, tool_set: access.tool_set ?? null, tools: access.tools ? JSON.stringify(access.tools) : null, updated_at: Date.now() };
      await db
        .insertInto("mcp_key_access")
        .values(row)
        .onConflict((oc) => oc.column("key_id").doUpdateSet({ tool_set: row.tool_set, tools: row.tools, updated_at: row.updated_at }))
        .execute();
    },
    async remove(keyId) {
      const result = await db.deleteFrom("mcp_key_access").where("key_id", "=", keyId).executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },
  };
}

import { createHash } from "node:crypto";
import { Type, type Static } from "@sinclair/typebox";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { FlotillaError, isoTime } from "../kernel/index.js";
import type { McpKeyAccess, McpToolChange, McpToolSettings, Store } from "../store/index.js";
import type { ToolAccess } from "./access.js";
import { splitToolName, type CatalogEntry, type ToolCatalog } from "./catalog.js";
import { compilePattern } from "./tool-filters.js";

const tags = ["mcp"];

/** Jan Server's admin record of a tool (`MCPToolResponse`), with what Flotilla adds: where it lives, whether it is there now, its size limit. */
const ToolRecord = Type.Object({
  id: Type.String({ description: "A UUID, stable for the tool's name" }),
  public_id: Type.String({ description: "mcp_<name>: the id the admin routes take (the name and id do too)" }),
  tool_key: Type.String(),
  name: Type.String({ description: "<relay or server>__<tool>" }),
  description: Type.String(),
  category: Type.String(),
  is_active: Type.Boolean(),
  enabled: Type.Boolean({ description: "The same as is_active" }),
  metadata: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  disallowed_keywords: Type.Optional(Type.Array(Type.String(), { description: "Patterns refused in arguments and results; left out when none" })),
  max_result_bytes: Type.Union([Type.Integer(), Type.Null()]),
  source: Type.Object({ kind: Type.String(), id: Type.String() }),
  available: Type.Boolean({ description: "Whether its relay or server offers it now" }),
  created_at: Type.Union([Type.String(), Type.Null()], { description: "Null until an admin first changes the tool" }),
  updated_at: Type.Union([Type.String(), Type.Null()]),
});
type ToolRecord = Static<typeof ToolRecord>;

const Patterns = Type.Array(Type.String({ minLength: 1, maxLength: 1000 }), { maxItems: 100 });
const MaxBytes = Type.Union([Type.Integer({ minimum: 1, maximum: 1024 * 1024 * 1024 }), Type.Null()]);

const ToolPatch = Type.Object({
  description: Type.Optional(Type.Union([Type.String({ maxLength: 10_000 }), Type.Null()])),
  category: Type.Optional(Type.Union([Type.String({ maxLength: 100 }), Type.Null()])),
  is_active: Type.Optional(Type.Boolean()),
  enabled: Type.Optional(Type.Boolean({ description: "The same as is_active" })),
  metadata: Type.Optional(Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()])),
  disallowed_keywords: Type.Optional(Type.Union([Patterns, Type.Null()])),
  max_result_bytes: Type.Optional(MaxBytes),
});
const ToolFiltersBody = Type.Object({ disallowed_keywords: Patterns, max_result_bytes: Type.Optional(MaxBytes) });

const ListQuery = Type.Object({
  category: Type.Optional(Type.String({ maxLength: 100 })),
  is_active: Type.Optional(Type.String({ maxLength: 10, description: '"true", or anything else for false' })),
  search: Type.Optional(Type.String({ maxLength: 200 })),
  limit: Type.Integer({ minimum: 1, maximum: 1000, default: 20 }),
  offset: Type.Integer({ minimum: 0, maximum: 1_000_000, default: 0 }),
});
const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 300 }) });

/**
 * Tool administration on Jan Server's routes (`/v1/admin/mcp-tools`) and the
 * ones its documentation names (`/v1/admin/mcp/tools`, with `enabled` and a
 * `/filters` PUT). Switching a tool off hides it from every MCP endpoint and
 * refuses its calls; its filters apply to every call through the gateway.
 */
export function registerMcpAdminRoutes(app: FastifyInstance, catalog: ToolCatalog, store: Pick<Store, "mcpTools" | "mcpKeyAccess" | "apiKeys">, access: ToolAccess): void {
  const admin = { auth: "admin" as const };
  const settings = store.mcpTools;
  registerKeyAccessRoutes(app, store, access);
  const everything = (req: FastifyRequest) => catalog.list({ caller: req.ip, requestId: String(req.id), signal: new AbortController().signal }, true);

  const records = async (req: FastifyRequest): Promise<ToolRecord[]> => {
    const [entries, stored] = await Promise.all([everything(req), settings.all()]);
    const byName = new Map<string, ToolRecord>(entries.map((e) => [e.name, recordOf(e.name, e, e.settings)]));
    for (const s of stored) if (!byName.has(s.tool_key)) byName.set(s.tool_key, recordOf(s.tool_key, undefined, s));
    return [...byName.values()].sort((a, b) => a.name.localeCompare(b.name));
  };
  const find = async (req: FastifyRequest, id: string): Promise<ToolRecord> => {
    const found = (await records(req)).find((r) => r.public_id === id || r.id === id || r.name === id);
    if (!found) throw new FlotillaError("not_found", `no MCP tool "${id}" (give its public_id, id or name)`, { param: "tool_id" });
    return found;
  };
  const change = async (req: FastifyRequest, id: string, body: McpToolChange) => {
    for (const [i, pattern] of (body.disallowed_keywords ?? []).entries()) {
      if (!compilePattern(pattern)) throw new FlotillaError("invalid_request", `disallowed_keywords[${i}] is not a valid pattern: ${JSON.stringify(pattern)}`, { param: `disallowed_keywords[${i}]` });
    }
    const tool = await find(req, id);
    await settings.change(tool.name, body);
    // Read again rather than patched up: a cleared description shows the tool's own again, which only the catalog knows.
    return { data: await find(req, id) };
  };

  for (const base of ["/v1/admin/mcp-tools", "/v1/admin/mcp/tools"]) {
    app.get(
      base,
      { schema: { summary: "Every MCP tool with its admin settings", tags, querystring: ListQuery, response: { 200: Type.Object({ data: Type.Array(ToolRecord), total: Type.Integer() }) } }, config: admin },
      async function listTools(req) {
        const q = req.query as Static<typeof ListQuery>;
        const search = q.search?.toLowerCase();
        const matching = (await records(req)).filter(
          (r) =>
            (q.category === undefined || r.category === q.category) &&
            (q.is_active === undefined || q.is_active === "" || r.is_active === (q.is_active === "true")) &&
            (!search || [r.name, r.description, r.tool_key].some((text) => text.toLowerCase().includes(search))),
        );
        return { data: matching.slice(q.offset, q.offset + q.limit), total: matching.length };
      },
    );
    app.get(
      `${base}/:id`,
      { schema: { summary: "One MCP tool's admin settings", tags, params: IdParams, response: { 200: Type.Object({ data: ToolRecord }) } }, config: admin },
      async function getTool(req) {
        return { data: await find(req, (req.params as { id: string }).id) };
      },
    );
    app.patch(
      `${base}/:id`,
      {
        schema: {
          summary: "Change an MCP tool: enable or disable it, its description, category, filters",
          tags,
          params: IdParams,
          body: ToolPatch,
          response: { 200: Type.Object({ data: ToolRecord }) },
        },
        config: admin,
      },
      async function patchTool(req) {
        const body = req.body as Static<typeof ToolPatch>;
        const { enabled, is_active, ...rest } = body;
        return change(req, (req.params as { id: string }).id, { ...rest, is_active: is_active ?? enabled });
      },
    );
    app.put(
      `${base}/:id/filters`,
      {
        schema: {
          summary: "Set an MCP tool's filters",
          description: "Patterns refused in a call's arguments and withheld from its result, and the most bytes a result may take; a refused call says which rule.",
          tags,
          params: IdParams,
          body: ToolFiltersBody,
          response: { 200: Type.Object({ data: ToolRecord }) },
        },
        config: admin,
      },
      async function putFilters(req) {
        const body = req.body as Static<typeof ToolFiltersBody>;
        return change(req, (req.params as { id: string }).id, { disallowed_keywords: body.disallowed_keywords, max_result_bytes: body.max_result_bytes ?? null });
      },
    );
  }
}

const KeyAccess = Type.Union(
  [
    Type.Object({ tool_set: Type.String({ minLength: 1, maxLength: 128, description: "A name in mcp.tool_sets" }) }, { additionalProperties: false }),
    Type.Object({ tools: Type.Array(Type.String({ minLength: 1, maxLength: 300 }), { maxItems: 1000, description: "Patterns over namespaced tool names; `*` any run" }) }, { additionalProperties: false }),
  ],
  { description: "The MCP tools one API key may use" },
);
const KeyAccessView = Type.Object({ key_id: Type.String(), tool_set: Type.Union([Type.String(), Type.Null()]), tools: Type.Union([Type.Array(Type.String()), Type.Null()]) });

/** Per-key tool permissions: a key limited here sees and calls only those tools on every MCP endpoint. */
function registerKeyAccessRoutes(app: FastifyInstance, store: Pick<Store, "mcpKeyAccess" | "apiKeys">, access: ToolAccess): void {
  const config = { auth: "admin" as const };
  const params = Type.Object({ id: Type.String({ minLength: 1, maxLength: 128 }) });
  const view = (keyId: string, rule: McpKeyAccess | undefined) => ({ key_id: keyId, tool_set: rule?.tool_set ?? null, tools: rule?.tools ?? null });
  const knownKey = async (id: string) => {
    if (!(await store.apiKeys.get(id))) throw new FlotillaError("not_found", `no API key with id "${id}"`, { param: "id" });
  };
  app.get(
    "/api/mcp/keys/:id",
    { schema: { summary: "The MCP tools an API key may use (null: every tool)", tags, params, response: { 200: KeyAccessView } }, config },
    async function getKeyAccess(req) {
      const { id } = req.params as { id: string };
      await knownKey(id);
      return view(id, await store.mcpKeyAccess.get(id));
    },
  );
  app.put(
    "/api/mcp/keys/:id",
    { schema: { summary: "Limit an API key to a tool set or to tools of its own", tags, params, body: KeyAccess, response: { 200: KeyAccessView } }, config },
    async function putKeyAccess(req) {
      const { id } = req.params as { id: string };
      const rule = req.body as McpKeyAccess;
      if (rule.tool_set !== undefined && !access.hasSet(rule.tool_set)) throw new FlotillaError("invalid_request", `no MCP tool set named "${rule.tool_set}" (mcp.tool_sets)`, { param: "tool_set" });
      await knownKey(id);
      await store.mcpKeyAccess.set(id, rule);
      return view(id, rule);
    },
  );
  app.delete(
    "/api/mcp/keys/:id",
    { schema: { summary: "Let an API key use every MCP tool again", tags, params }, config },
    async function deleteKeyAccess(req, reply) {
      const { id } = req.params as { id: string };
      await knownKey(id);
      await store.mcpKeyAccess.remove(id);
      return reply.code(204).send();
    },
  );
}

function recordOf(name: string, entry: CatalogEntry | undefined, settings: McpToolSettings | undefined): ToolRecord {
  const active = settings?.is_active ?? true;
  return {
    id: stableUuid(name),
    public_id: `mcp_${name}`,
    tool_key: name,
    name,
    description: entry?.tool.description ?? settings?.description ?? "",
    category: settings?.category ?? "",
    is_active: active,
    enabled: active,
    ...(settings?.metadata ? { metadata: settings.metadata } : {}),
    ...(settings?.disallowed_keywords.length ? { disallowed_keywords: settings.disallowed_keywords } : {}),
    max_result_bytes: settings?.max_result_bytes ?? null,
    source: entry?.source ?? { kind: "unknown", id: splitToolName(name)?.namespace ?? name },
    available: entry !== undefined,
    created_at: settings ? janTime(settings.created_at) : null,
    updated_at: settings ? janTime(settings.updated_at) : null,
  };
}

/** A UUID from a name (sha1, shaped as version 5), so a tool keeps its id without a row. */
function stableUuid(name: string): string {
  const h = createHash("sha1").update(`flotilla-mcp-tool:${name}`).digest("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${((parseInt(h[16], 16) & 3) | 8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** Jan's timestamp format: 2006-01-02T15:04:05Z. */
function janTime(ms: number): string {
  return isoTime(ms).replace(/\.\d{3}Z$/, "Z");
}

import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { CallToolResult, Tool } from "@modelcontextprotocol/sdk/types.js";
import { BUILD, FlotillaError } from "../kernel/index.js";
import type { McpToolRepo, McpToolSettings } from "../store/index.js";
import type { RelayHub } from "./hub.js";
import { ToolFilters } from "./tool-filters.js";
import type { JsonRpcResponse } from "./jsonrpc.js";

/** A tool as the gateway offers it: named `<source>__<tool>`, with where it lives and its own definition. */
export interface CatalogEntry {
  name: string;
  /** The name's first part: the source's id as tool names allow it. */
  namespace: string;
  source: { kind: "relay" | "server"; id: string };
  tool: Tool;
  /** What an admin set for it, if anything. */
  settings?: McpToolSettings;
}

export interface McpServerConfig {
  name: string;
  url: string;
  headers?: Record<string, string>;
}

export interface CatalogOptions {
  servers: McpServerConfig[];
  /** Admins' settings per tool: enabled, description, filters. */
  settings: McpToolRepo;
  /** Tokens of relays that require one (`--auth-token`), by relay id. */
  relayTokens: Record<string, string>;
  log: { warn(msg: string): void };
}

/** Who is asking, for the relays' per-caller limit, and when to stop. */
export interface CatalogCall {
  caller: string;
  requestId: string;
  signal: AbortSignal;
}

/** Between a source's name and its tool's: `laptop__read_file`. */
export const NAMESPACE_SEPARATOR = "__";
const MAX_PAGES = 50;

/** Tool names allow letters, digits, `_`, `-` and `.`; a relay id may hold more. */
export const namespaceOf = (id: string) => id.replace(/[^A-Za-z0-9_.-]/g, "_");

/** A source's tool as the gateway names it: `laptop` and `read_file` → `laptop__read_file`. */
export const joinToolName = (namespace: string, tool: string) => `${namespace}${NAMESPACE_SEPARATOR}${tool}`;

/** `laptop__read_file` → its namespace and the source's own tool name; undefined for a name without both. */
export function splitToolName(name: string): { namespace: string; tool: string } | undefined {
  const at = name.indexOf(NAMESPACE_SEPARATOR);
  return at > 0 ? { namespace: name.slice(0, at), tool: name.slice(at + NAMESPACE_SEPARATOR.length) } : undefined;
}

/** Every page of a tools/list, following `nextCursor` (at most MAX_PAGES, so a server cannot loop us forever). */
async function allPages(page: (cursor: string | undefined) => Promise<{ tools?: Tool[]; nextCursor?: unknown }>): Promise<Tool[]> {
  const tools: Tool[] = [];
  let cursor: string | undefined;
  for (let n = 0; n < MAX_PAGES; n++) {
    const result = await page(cursor);
    tools.push(...(result.tools ?? []));
    cursor = typeof result.nextCursor === "string" && result.nextCursor ? result.nextCursor : undefined;
    if (!cursor) break;
  }
  return tools;
}

interface Source {
  kind: "relay" | "server";
  id: string;
  listTools(call: CatalogCall): Promise<Tool[]>;
  callTool(name: string, args: Record<string, unknown> | undefined, call: CatalogCall): Promise<CallToolResult>;
}

/**
 * Every tool the gateway can reach: each connected relay's and each MCP
 * server's configured by URL. Lists are read when asked (a relay's tools
 * change as it comes and goes); a source that fails is left out of a list,
 * with a warning, rather than failing it.
 */
export class ToolCatalog {
  private readonly servers: Source[];
  private readonly filters: ToolFilters;

  constructor(
    private readonly hub: RelayHub,
    private readonly options: CatalogOptions,
  ) {
    this.servers = options.servers.map((s) => new ServerSource(s));
    this.filters = new ToolFilters(options.log);
  }

  private sources(): Source[] {
    const relays = this.hub.list().map((r) => new RelaySource(this.hub, r.id, this.options.relayTokens[r.id]));
    return [...this.servers, ...relays];
  }

  /** The tools offered now, as an admin set them; `everything` also lists the ones switched off. */
  async list(call: CatalogCall, everything = false): Promise<CatalogEntry[]> {
    const [lists, stored] = await Promise.all([
      Promise.all(
        this.sources().map(async (source) => {
          try {
            const namespace = namespaceOf(source.id);
            return (await source.listTools(call)).map((tool): CatalogEntry => ({ name: joinToolName(namespace, tool.name), namespace, source: { kind: source.kind, id: source.id }, tool }));
          } catch (err) {
            this.options.log.warn(`MCP ${source.kind} ${source.id}: its tools could not be listed: ${(err as Error).message}`);
            return [];
          }
        }),
      ),
      this.options.settings.all(),
    ]);
    const settings = new Map(stored.map((s) => [s.tool_key, s]));
    return lists
      .flat()
      .map((entry) => {
        const set = settings.get(entry.name);
        return set ? { ...entry, settings: set, tool: set.description === null ? entry.tool : { ...entry.tool, description: set.description } } : entry;
      })
      .filter((entry) => everything || entry.settings?.is_active !== false);
  }

  /**
   * Calls a namespaced tool where it lives, as an admin allows: a tool switched
   * off is refused, and its filters refuse arguments or withhold a result,
   * each naming the rule.
   */
  async call(name: string, args: Record<string, unknown> | undefined, call: CatalogCall): Promise<CallToolResult> {
    const parts = splitToolName(name);
    const source = parts && this.sources().find((s) => namespaceOf(s.id) === parts.namespace);
    if (!parts || !source) throw new FlotillaError("not_found", `no MCP tool named "${name}": tools are named <relay or server>${NAMESPACE_SEPARATOR}<tool>`, { param: "name" });
    const settings = await this.options.settings.get(name);
    if (settings?.is_active === false) throw new FlotillaError("forbidden", `tool is disabled: an admin switched "${name}" off`);
    if (settings) this.filters.checkArguments(settings, args);
    const result = await source.callTool(parts.tool, args, call);
    if (settings) this.filters.checkResult(settings, result);
    return result;
  }

  async close(): Promise<void> {
    await Promise.all(this.servers.map((s) => (s as ServerSource).close()));
  }
}

class RelaySource implements Source {
  readonly kind = "relay";
  constructor(
    private readonly hub: RelayHub,
    readonly id: string,
    private readonly token: string | undefined,
  ) {}

  private async request(method: string, params: Record<string, unknown>, call: CatalogCall): Promise<Record<string, unknown>> {
    const answer = (await this.hub.call(this.id, { jsonrpc: "2.0", id: 1, method, params }, { ...call, auth: this.token })) as JsonRpcResponse | undefined;
    if (answer?.error) throw new FlotillaError("upstream_error", `the MCP relay "${this.id}" answered ${method} with an error: ${answer.error.message}`, { status: 502 });
    if (!answer || typeof answer.result !== "object" || answer.result === null) throw new FlotillaError("upstream_error", `the MCP relay "${this.id}" gave no result for ${method}`);
    return answer.result as Record<string, unknown>;
  }

  listTools(call: CatalogCall): Promise<Tool[]> {
    return allPages((cursor) => this.request("tools/list", cursor ? { cursor } : {}, call));
  }

  async callTool(name: string, args: Record<string, unknown> | undefined, call: CatalogCall): Promise<CallToolResult> {
    return (await this.request("tools/call", { name, arguments: args ?? {} }, call)) as CallToolResult;
  }
}

/** An MCP server configured by URL, reached with the SDK's client over streamable HTTP; connected on first use, again after a failure. */
class ServerSource implements Source {
  readonly kind = "server";
  readonly id: string;
  private client?: Promise<Client>;

  constructor(private readonly config: McpServerConfig) {
    this.id = config.name;
  }

  private connect(): Promise<Client> {
    this.client ??= (async () => {
      const client = new Client({ name: "flotilla", version: BUILD.version }, { capabilities: {} });
      client.onclose = () => (this.client = undefined);
      await client.connect(new StreamableHTTPClientTransport(new URL(this.config.url), { requestInit: { headers: this.config.headers } }));
      return client;
    })().catch((err: Error) => {
      this.client = undefined;
      throw new FlotillaError("upstream_unreachable", `the MCP server "${this.id}" (${this.config.url}) cannot be reached: ${err.message}`);
    });
    return this.client;
  }

  private async using<T>(work: (client: Client) => Promise<T>): Promise<T> {
    const client = await this.connect();
    try {
      return await work(client);
    } catch (err) {
      // A JSON-RPC error (a numeric code) is the server's answer; anything else may be a
      // server that restarted and forgot the session, so the next use connects afresh.
      if (typeof (err as { code?: unknown }).code !== "number" && (err as Error).name !== "AbortError") this.client = undefined;
      throw err;
    }
  }

  listTools(call: CatalogCall): Promise<Tool[]> {
    return this.using((client) => allPages((cursor) => client.listTools(cursor ? { cursor } : {}, { signal: call.signal })));
  }

  callTool(name: string, args: Record<string, unknown> | undefined, call: CatalogCall): Promise<CallToolResult> {
    return this.using(async (client) => (await client.callTool({ name, arguments: args }, undefined, { signal: call.signal })) as CallToolResult);
  }

  async close(): Promise<void> {
    const client = await this.client?.catch(() => undefined);
    await client?.close();
  }
}

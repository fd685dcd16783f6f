import { FlotillaError, namePatterns, type Principal } from "../kernel/index.js";
import type { McpKeyAccessRepo } from "../store/index.js";
import { EVERY_TOOL, type ToolFilter } from "./endpoint.js";

const NO_TOOL: ToolFilter = () => false;

/**
 * Which tools a caller may see and call: those of the endpoint it reached
 * (`/mcp` all, `/mcp/{set}` a tool set) and, when its API key was limited by
 * an admin, only those the key's rule allows too.
 */
export class ToolAccess {
  private readonly sets: Map<string, ToolFilter>;

  constructor(
    toolSets: Record<string, string[]>,
    private readonly keys: McpKeyAccessRepo,
    private readonly log: { warn(msg: string): void },
  ) {
    this.sets = new Map(Object.entries(toolSets).map(([name, patterns]) => [name, namePatterns(patterns)]));
  }

  hasSet(name: string): boolean {
    return this.sets.has(name);
  }

  async filterFor(principal: Principal | undefined, set?: string): Promise<ToolFilter> {
    const endpoint = set === undefined ? EVERY_TOOL : this.sets.get(set);
    if (!endpoint) throw new FlotillaError("not_found", `no MCP tool set named "${set}" (mcp.tool_sets)`, { param: "set" });
    const rule = principal?.keyId ? await this.keys.get(principal.keyId) : undefined;
    if (!rule) return endpoint;
    let key: ToolFilter;
    if (rule.tool_set !== undefined) {
      key = this.sets.get(rule.tool_set) ?? NO_TOOL;
      if (key === NO_TOOL) this.log.warn(`API key ${principal?.keyId} may use the MCP tool set "${rule.tool_set}", which mcp.tool_sets no longer names: it is offered no tool`);
    } else key = namePatterns(rule.tools);
    return (name) => endpoint(name) && key(name);
  }
}

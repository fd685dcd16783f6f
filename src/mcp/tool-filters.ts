import { FlotillaError } from "../kernel/index.js";
import type { McpToolSettings } from "../store/index.js";

/**
 * A tool's filters as an admin set them (Jan Server's `disallowed_keywords`,
 * and a size limit): patterns refused in the arguments a call sends and in
 * the result it gets back, and the most bytes a result may take. Patterns are
 * regular expressions; Jan's Go-style `(?i)` prefix is read as the `i` flag.
 */
export class ToolFilters {
  private readonly compiled = new Map<string, RegExp | null>();

  constructor(private readonly log: { warn(msg: string): void }) {}

  checkArguments(settings: McpToolSettings, args: Record<string, unknown> | undefined): void {
    const rule = this.firstMatch(settings, JSON.stringify(args ?? {}));
    if (rule) throw new FlotillaError("forbidden", `refused by the filter of "${settings.tool_key}": its arguments match ${rule}`);
  }

  checkResult(settings: McpToolSettings, result: unknown): void {
    const text = JSON.stringify(result);
    const size = Buffer.byteLength(text);
    if (settings.max_result_bytes !== null && size > settings.max_result_bytes) {
      throw new FlotillaError("forbidden", `withheld by the filter of "${settings.tool_key}": the result is ${size} bytes, over max_result_bytes (${settings.max_result_bytes})`);
    }
    const rule = this.firstMatch(settings, text);
    if (rule) throw new FlotillaError("forbidden", `withheld by the filter of "${settings.tool_key}": its result matches ${rule}`);
  }

  private firstMatch(settings: McpToolSettings, text: string): string | undefined {
    const index = settings.disallowed_keywords.findIndex((pattern) => this.regex(pattern)?.test(text));
    return index < 0 ? undefined : `disallowed_keywords[${index}] (${JSON.stringify(settings.disallowed_keywords[index])})`;
  }

  private regex(pattern: string): RegExp | null {
    let found = this.compiled.get(pattern);
    if (found === undefined) {
      found = compilePattern(pattern);
      if (found === null) this.log.warn(`MCP tool filter ${JSON.stringify(pattern)} is not a valid pattern; it is skipped`);
      this.compiled.set(pattern, found);
    }
    return found;
  }
}

/** A pattern as a RegExp, or null when it is not one. */
export function compilePattern(pattern: string): RegExp | null {
  const caseless = pattern.startsWith("(?i)");
  try {
    return new RegExp(caseless ? pattern.slice(4) : pattern, caseless ? "i" : "");
  } catch {
    return null;
  }
}

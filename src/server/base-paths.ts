/**
 * Jan Server behind its Kong gateway serves each service under a prefix that
 * Kong strips (`/llm/v1/conversations` reaches the LLM API as
 * `/v1/conversations`); Jan's apps and scripts configured for Kong call those
 * addresses. One gateway here serves them all, so the same prefixes are
 * stripped before routing. `/response` is the seed's name, `/responses` the
 * one Jan's Kong file uses; `/mcp` is stripped only before `v1/` and `healthz`,
 * since `/mcp` and `/mcp/{set}` are MCP endpoints of their own.
 */
const PREFIXES = ["/llm/", "/media/", "/response/", "/responses/"] as const;
const MCP_PATHS = ["/mcp/v1/", "/mcp/healthz", "/mcp/readyz"] as const;

/** The URL a Kong-prefixed request stands for; any other URL unchanged. */
export function withoutGatewayPrefix(url: string): string {
  // Most requests start with /v1 or /api: one character rules them out.
  const first = url.charCodeAt(1);
  if (first !== 108 /* l */ && first !== 109 /* m */ && first !== 114 /* r */) return url;
  for (const prefix of PREFIXES) if (url.startsWith(prefix)) return url.slice(prefix.length - 1);
  for (const path of MCP_PATHS) if (url.startsWith(path)) return url.slice(4);
  return url;
}

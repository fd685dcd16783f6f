import { Server } from "@modelcontextprotocol/sdk/server/index.js";
import { WebStandardStreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js";
import { CallToolRequestSchema, CompleteRequestSchema, ErrorCode, ListToolsRequestSchema, McpError, SetLevelRequestSchema } from "@modelcontextprotocol/sdk/types.js";
import { BUILD, FlotillaError, type JsonRpcErrorBody } from "../kernel/index.js";
import type { CatalogCall, ToolCatalog } from "./catalog.js";

/** Which namespaced tools a caller may see and call. */
export type ToolFilter = (name: string) => boolean;

export const EVERY_TOOL: ToolFilter = () => true;

/** What the endpoint answers: a status and a JSON body, or none (202). */
export interface McpAnswer {
  status: number;
  body: unknown;
}

/**
 * Flotilla as one MCP server (streamable HTTP, stateless, JSON answers):
 * the catalog's tools, filtered, made with the official SDK's server. One
 * server and transport per request, as the SDK's stateless mode asks. The
 * body arrives parsed and the answer is JSON, so a client that did not say it
 * accepts event streams too, or sent another content type (`curl -d`), is
 * served anyway.
 */
/** `call.signal`: the caller went away; whatever it started is stopped. */
export async function serveMcp(body: unknown, catalog: ToolCatalog, filter: ToolFilter, call: CatalogCall): Promise<McpAnswer> {
  const server = new Server(
    { name: "flotilla", version: BUILD.version },
    // logging and completions are declared as the MCP conformance suite expects of a server: it sends no log messages and has no prompts or resources to complete.
    { capabilities: { tools: {}, logging: {}, completions: {} }, instructions: "The tools of every MCP relay and server behind this Flotilla gateway, each named <relay or server>__<tool>." },
  );
  server.setRequestHandler(SetLevelRequestSchema, async () => ({}));
  server.setRequestHandler(CompleteRequestSchema, async () => ({ completion: { values: [], total: 0, hasMore: false } }));
  server.setRequestHandler(ListToolsRequestSchema, async (_request, extra) => {
    const entries = await catalog.list({ ...call, signal: AbortSignal.any([call.signal, extra.signal]) });
    return { tools: entries.filter((e) => filter(e.name)).map((e) => ({ ...e.tool, name: e.name })) };
  });
  server.setRequestHandler(CallToolRequestSchema, async (request, extra) => {
    const { name, arguments: args } = request.params;
    if (!filter(name)) throw new McpError(ErrorCode.InvalidParams, `the tool "${name}" is not offered here`);
    try {
      return await catalog.call(name, args, { ...call, signal: AbortSignal.any([call.signal, extra.signal]) });
    } catch (err) {
      if (err instanceof FlotillaError && err.code === "not_found") throw new McpError(ErrorCode.InvalidParams, err.message);
      // A tool that fails is the model's to read (MCP's isError), not a protocol error.
      return { content: [{ type: "text" as const, text: (err as Error).message }], isError: true };
    }
  });
  const transport = new WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
  try {
    await server.connect(transport);
    const request = new Request("http://gateway/mcp", {
      method: "POST",
      headers: { accept: "application/json, text/event-stream", "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    const response = await transport.handleRequest(request, { parsedBody: body });
    const text = await response.text();
    if (!text) return { status: response.status, body: undefined };
    const answer = JSON.parse(text) as unknown;
    return { status: response.status, body: response.status >= 400 ? withOurData(answer, call.requestId) : answer };
  } finally {
    await transport.close();
    await server.close();
  }
}

/** An error the SDK's transport wrote itself (a message it would not take), with the data every Flotilla JSON-RPC error carries. */
function withOurData(answer: unknown, requestId: string): unknown {
  const error = (answer as Partial<JsonRpcErrorBody>)?.error;
  if (!error || typeof error !== "object") return answer;
  return { ...(answer as object), error: { ...error, data: { code: "invalid_request", request_id: requestId } } };
}

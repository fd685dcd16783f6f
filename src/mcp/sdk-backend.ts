import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { LATEST_PROTOCOL_VERSION, McpError, ResultSchema, SUPPORTED_PROTOCOL_VERSIONS } from "@modelcontextprotocol/sdk/types.js";
import { BUILD } from "../kernel/index.js";
import type { McpBackend } from "./relay-agent.js";

/** Where the MCP server is: a command the relay runs (stdio), or a streamable-HTTP URL. */
export type McpServerTarget = { command: string; args: string[] } | { url: string; headers?: Record<string, string> };

interface Message {
  jsonrpc?: unknown;
  id?: string | number;
  method?: unknown;
  params?: Record<string, unknown>;
}

/** The gateway's own time limit governs a call; the SDK's (60 s by default) must not cut it first. */
const SDK_TIMEOUT_MS = 24 * 3_600_000;

/**
 * The MCP server behind a relay, reached with the official SDK's client. The
 * relay initializes once; each caller's `initialize` is answered from that
 * handshake, and every other request goes through the client, which gives
 * each one its own id (callers' ids may collide) and, when a call is stopped,
 * sends the server `notifications/cancelled`.
 */
export class SdkBackend implements McpBackend {
  private constructor(
    private readonly client: Client,
    private readonly protocolVersion: string,
  ) {}

  static async open(target: McpServerTarget, onClose: (why: string) => void): Promise<SdkBackend> {
    const client = new Client({ name: "flotilla-mcp-relay", version: BUILD.version }, { capabilities: {} });
    const transport =
      "command" in target
        ? new StdioClientTransport({ command: target.command, args: target.args, env: process.env as Record<string, string>, stderr: "inherit" })
        : new StreamableHTTPClientTransport(new URL(target.url), { requestInit: { headers: target.headers } });
    client.onclose = () => onClose("command" in target ? `the MCP server (${target.command}) exited` : `the MCP server at ${target.url} closed the connection`);
    await client.connect(transport);
    return new SdkBackend(client, (transport as { protocolVersion?: string }).protocolVersion ?? LATEST_PROTOCOL_VERSION);
  }

  /** The tools the server offers, for the relay's first line. */
  async toolNames(): Promise<string[]> {
    if (!this.client.getServerCapabilities()?.tools) return [];
    return (await this.client.listTools()).tools.map((t) => t.name);
  }

  async answer(body: unknown, signal: AbortSignal): Promise<unknown> {
    if (!Array.isArray(body)) return this.one(body as Message, signal);
    const answers = (await Promise.all(body.map((m) => this.one(m as Message, signal)))).filter((a) => a !== undefined);
    return answers.length > 0 ? answers : undefined;
  }

  private async one(message: Message, signal: AbortSignal): Promise<unknown> {
    if (message === null || typeof message !== "object" || typeof message.method !== "string") {
      return { jsonrpc: "2.0", id: null, error: { code: -32600, message: "Invalid Request: not a JSON-RPC request" } };
    }
    const { id, method, params } = message;
    if (id === undefined) {
      // The relay already told the server it is initialized; a caller's own cancel has no id of ours to name (the gateway's close stops the call).
      if (method !== "notifications/initialized" && method !== "notifications/cancelled") await this.client.notification({ method, params } as never);
      return undefined;
    }
    if (method === "initialize") return { jsonrpc: "2.0", id, result: this.initializeResult(params) };
    try {
      const result = await this.client.request({ method, params } as never, ResultSchema, { signal, timeout: SDK_TIMEOUT_MS });
      return { jsonrpc: "2.0", id, result };
    } catch (err) {
      if (err instanceof McpError) return { jsonrpc: "2.0", id, error: { code: err.code, message: err.message, ...(err.data !== undefined ? { data: err.data } : {}) } };
      return { jsonrpc: "2.0", id, error: { code: -32603, message: (err as Error).message ?? String(err) } };
    }
  }

  private initializeResult(params: Record<string, unknown> | undefined) {
    const asked = params?.protocolVersion;
    const protocolVersion = typeof asked === "string" && SUPPORTED_PROTOCOL_VERSIONS.includes(asked) ? asked : this.protocolVersion;
    const instructions = this.client.getInstructions();
    return {
      protocolVersion,
      capabilities: this.client.getServerCapabilities() ?? {},
      serverInfo: this.client.getServerVersion() ?? { name: "unknown", version: "0" },
      ...(instructions ? { instructions } : {}),
    };
  }

  close(): Promise<void> {
    return this.client.close();
  }
}

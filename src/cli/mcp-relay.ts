import { hostname } from "node:os";
import { parseArgs } from "node:util";
import { mcpRelayPath } from "../mcp/index.js";
import { runRelayAgent } from "../mcp/relay-agent.js";
import { SdkBackend, type McpServerTarget } from "../mcp/sdk-backend.js";

const OPTIONS = {
  server: { type: "string" },
  id: { type: "string" },
  "client-key": { type: "string" },
  "auth-token": { type: "string" },
  name: { type: "string" },
  url: { type: "string" },
  header: { type: "string", multiple: true },
  json: { type: "boolean" },
} as const;

export const MCP_RELAY_HELP = `mcp-relay options: flotilla mcp-relay --server URL [options] -- COMMAND [ARGS…]  (or --url URL)
  --server URL           the gateway to dial (required), e.g. http://gateway:8080
  --id ID                the relay's id (default: one the gateway gives); kept across reconnects
  --client-key K         the gateway's client key (FLOTILLA_CLIENT_KEY)
  --auth-token T         refuse calls whose Authorization bearer is not T (FLOTILLA_MCP_AUTH_TOKEN)
  --name N               a name shown beside the id (default: this host's name)
  --url URL              bridge a streamable-HTTP MCP server instead of running a command
  --header 'K: V'        with --url: a header sent to it; repeatable
  --json                 log as JSON lines
`;

/** `flotilla mcp-relay`: puts an MCP server on this machine behind the gateway's /api/mcp/id/{id}. */
export async function mcpRelay(argv: string[]): Promise<number | void> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (err) {
    process.stderr.write(`flotilla mcp-relay: ${(err as Error).message}\n\n${MCP_RELAY_HELP}`);
    return 2;
  }
  const { values, positionals } = parsed;
  const target = targetOf(values, positionals);
  if (typeof target === "string") {
    process.stderr.write(`flotilla mcp-relay: ${target}\n\n${MCP_RELAY_HELP}`);
    return 2;
  }
  const log = (message: string, fields: Record<string, unknown> = {}) =>
    process.stdout.write(values.json ? `${JSON.stringify({ time: new Date().toISOString(), msg: message, ...fields })}\n` : `${new Date().toISOString()} ${message}\n`);

  let stopping = false;
  let exitCode: number | undefined;
  let finish!: () => void;
  const finished = new Promise<void>((resolve) => (finish = resolve));
  let backend: SdkBackend;
  try {
    backend = await SdkBackend.open(target, (why) => {
      if (stopping) return;
      log(`${why}; stopping`);
      exitCode = 1;
      finish();
    });
  } catch (err) {
    process.stderr.write(`flotilla mcp-relay: cannot start the MCP server: ${(err as Error).message}\n`);
    return 1;
  }
  const tools = await backend.toolNames().catch(() => []);
  log(`MCP server ready: ${tools.length} tools${tools.length ? ` (${tools.join(", ")})` : ""}`, { tools });

  const server = values.server as string;
  const agent = runRelayAgent({
    server,
    id: values.id,
    clientKey: values["client-key"] ?? process.env.FLOTILLA_CLIENT_KEY,
    authToken: values["auth-token"] ?? process.env.FLOTILLA_MCP_AUTH_TOKEN,
    clientName: values.name ?? hostname(),
    backend,
    log: (message) => log(message),
    onRegistered: (id) => log(`callers reach it at POST ${new URL(mcpRelayPath(id), server)}`, { id }),
  });
  const stop = (signal: string) => {
    log(`${signal}: stopping`);
    finish();
  };
  process.once("SIGINT", () => stop("SIGINT"));
  process.once("SIGTERM", () => stop("SIGTERM"));
  await finished;
  stopping = true;
  await agent.stop();
  await backend.close().catch(() => undefined);
  return exitCode;
}

function parse(argv: string[]) {
  return parseArgs({ args: argv, options: OPTIONS, strict: true, allowPositionals: true });
}

function targetOf(values: ReturnType<typeof parse>["values"], command: string[]): McpServerTarget | string {
  if (!values.server) return "--server URL is required";
  try {
    if (!["http:", "https:", "ws:", "wss:"].includes(new URL(values.server).protocol)) return `--server must be an http(s) or ws(s) URL, got ${values.server}`;
  } catch {
    return `--server: "${values.server}" is not a URL`;
  }
  if (values.url !== undefined) {
    if (command.length > 0) return "give either --url or a command after --, not both";
    try {
      if (!["http:", "https:"].includes(new URL(values.url).protocol)) return `--url must be an http(s) URL, got ${values.url}`;
    } catch {
      return `--url: "${values.url}" is not a URL`;
    }
    const headers: Record<string, string> = {};
    for (const line of values.header ?? []) {
      const at = line.indexOf(":");
      if (at <= 0) return `--header must be "Name: value", got ${line}`;
      headers[line.slice(0, at).trim()] = line.slice(at + 1).trim();
    }
    return { url: values.url, headers };
  }
  if (values.header?.length) return "--header goes with --url";
  if (command.length === 0) return "give the MCP server's command after --, e.g. -- npx -y @modelcontextprotocol/server-everything, or --url URL";
  return { command: command[0], args: command.slice(1) };
}

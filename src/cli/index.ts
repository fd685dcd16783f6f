import { BUILD } from "../kernel/index.js";

// Each command's module is loaded when that command runs: `flotilla queues list` need not load
// the gateway (its HTTP framework, database drivers and schemas), nor a worker the gateway.

/** The help text, with each command group's own part. */
async function help(): Promise<string> {
  const [{ WORKER_HELP }, { MCP_RELAY_HELP }, { MODELS_HELP }, { QUEUE_HELP }] = await Promise.all([
    import("./worker.js"),
    import("./mcp-relay.js"),
    import("./models.js"),
    import("./queue-commands.js"),
  ]);
  return `flotilla — one OpenAI- and Ollama-compatible gateway for a fleet of inference servers

Usage:
  flotilla serve [options]     start the gateway (default: port 8080, data in ./data)
  flotilla worker [options]    join a gateway's fleet over a WebSocket (from behind NAT)
  flotilla mcp-relay [options] -- COMMAND…
                               put a local MCP server behind the gateway (/api/mcp/id/{id})
  flotilla models list|pull    models across the fleet (see below)
  flotilla transfers list      model transfers
  flotilla queues|tasks|configs|workers …
                               the job queue (see below)
  flotilla make-tiny-model [FILE]
                               write the tiny random-weight GGUF (default ./data/models/tiny.gguf)
  flotilla version             print the version
  flotilla help                this text

serve options (each also as FLOTILLA_* env, e.g. FLOTILLA_PORT):
  --config FILE          YAML config file (defaults < file < env < flags)
  --port N               listen port (8080)
  --host H               listen address (0.0.0.0)
  --data-dir D           data directory (./data)
  --server URL[,kind]    add a server; repeatable; kind ollama|openai, probed when absent
  --metrics-port N       also serve /metrics on this port (METRICS_PORT)
  --ollama-port N        also serve the whole API on this port, e.g. 11434
  --auth-proxy key|open  open: inference endpoints need no key (admin ones still do)
  --database-url URL     PostgreSQL instead of SQLite (DATABASE_URL)
  --log-level L          fatal|error|warn|info|debug|trace|silent
  --embedded-model [NAME=]FILE
                         serve a GGUF file in this process (llama.cpp); repeatable

${WORKER_HELP}
${MCP_RELAY_HELP}
${MODELS_HELP}
${QUEUE_HELP}`;
}

export async function runCli(argv: string[]): Promise<number | void> {
  const [command = "serve", ...rest] = argv;
  switch (command) {
    case "serve":
      return (await import("./serve.js")).serve(rest);
    case "worker":
      return (await import("./worker.js")).worker(rest);
    case "mcp-relay":
      return (await import("./mcp-relay.js")).mcpRelay(rest);
    case "models":
    case "transfers":
      return (await import("./models.js")).models(command, rest);
    case "queues":
    case "tasks":
    case "configs":
    case "workers":
      return (await import("./queue-commands.js")).queueCommands(command, rest);
    case "make-tiny-model":
      return (await import("./make-tiny-model.js")).makeTinyModel(rest);
    case "version":
    case "--version":
      process.stdout.write(`flotilla ${BUILD.version}\n`);
      return 0;
    case "help":
    case "--help":
    case "-h":
      process.stdout.write(await help());
      return 0;
    default:
      process.stderr.write(`flotilla: unknown command "${command}"\n\n${await help()}`);
      return 2;
  }
}

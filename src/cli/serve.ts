import { parseArgs } from "node:util";
import { ConfigError, loadConfig, type ConfigFlags } from "../config/index.js";
import { startGateway, type Gateway } from "../server/gateway.js";

const OPTIONS = {
  config: { type: "string" },
  port: { type: "string" },
  host: { type: "string" },
  "data-dir": { type: "string" },
  server: { type: "string", multiple: true },
  "metrics-port": { type: "string" },
  "ollama-port": { type: "string" },
  "auth-proxy": { type: "string" },
  "database-url": { type: "string" },
  "log-level": { type: "string" },
  "embedded-model": { type: "string", multiple: true },
} as const;

export async function serve(argv: string[]): Promise<number | void> {
  let flags: ConfigFlags;
  try {
    flags = parseArgs({ args: argv, options: OPTIONS, strict: true, allowPositionals: false }).values as ConfigFlags;
  } catch (err) {
    process.stderr.write(`flotilla serve: ${(err as Error).message}\n`);
    return 2;
  }
  let config;
  try {
    config = loadConfig(flags);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`flotilla: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  // Heard from the start on: a stop asked for while starting is not lost.
  const stopSignal = new Promise<string>((resolve) => {
    process.once("SIGINT", () => resolve("SIGINT"));
    process.once("SIGTERM", () => resolve("SIGTERM"));
  });
  const starting = startGateway(config);
  const first = await Promise.race([starting, stopSignal]);
  if (typeof first === "string") return stopWhileStarting(first, starting, config.shutdown_timeout_ms);
  const gateway = first;
  const out = process.stdout;
  if (gateway.generatedAdminKey) {
    out.write(
      `\nAdmin API key (shown this once; only its hash is stored):\n\n    ${gateway.generatedAdminKey}\n\n` +
        `Use it as "Authorization: Bearer <key>". Set FLOTILLA_ADMIN_KEY to choose your own.\n\n`,
    );
  }
  if (gateway.servesTinyModel) {
    out.write(
      'serving model "tiny" from the embedded engine: random weights, for trying the system (its answers are nonsense words).\n' +
        "add real servers with --server URL, a config file or POST /admin/servers, a real model with --embedded-model FILE.gguf,\n" +
        "or machines behind NAT with `flotilla worker --server URL --upstream http://127.0.0.1:11434`.\n",
    );
  } else if (gateway.fleet.fleet.all().length === 0) {
    out.write("no servers configured: add them with --server URL, a config file, or POST /admin/servers\n");
  }
  // Last, so a script that waits for this line has everything above it.
  out.write(`flotilla listening on ${gateway.url}\n`);

  const signal = await stopSignal;
  out.write(`${signal}: finishing in-flight requests, then stopping\n`);
  await gateway.close().catch((err: unknown) => process.stderr.write(`flotilla: error while stopping: ${(err as Error).message}\n`));
}

/**
 * A start cannot be cut part-way: it runs to its end, then what it opened is closed.
 * One that does not end within the shutdown timeout fails, and the process exits.
 */
async function stopWhileStarting(signal: string, starting: Promise<Gateway>, timeoutMs: number): Promise<void> {
  process.stdout.write(`${signal} while starting: stopping once the start ends\n`);
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${signal} while starting, and the start did not end within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    const gateway = await Promise.race([starting, deadline]);
    await gateway.close();
  } finally {
    clearTimeout(timer);
  }
}

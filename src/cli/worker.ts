import { hostname } from "node:os";
import { parseArgs } from "node:util";
import { serverUrlProblem } from "../config/index.js";
import { QueueAgent } from "../queue/agent.js";
import { GatewayClient } from "./client.js";
import type { LocalServer } from "../engine/local-server.js";
import { parseModelSpec } from "../engine/model-spec.js";
import { runWorkerAgent } from "../workers/index.js";
import { UpstreamRelay } from "../workers/upstream-relay.js";

const OPTIONS = {
  server: { type: "string" },
  "client-key": { type: "string" },
  name: { type: "string" },
  id: { type: "string" },
  "max-concurrency": { type: "string" },
  upstream: { type: "string" },
  "upstream-kind": { type: "string" },
  model: { type: "string", multiple: true },
  json: { type: "boolean" },
  queue: { type: "string" },
  key: { type: "string" },
  "work-dir": { type: "string" },
} as const;

export const WORKER_HELP = `worker options:
  --server URL           the gateway to dial (required), e.g. http://gateway:8080
  --client-key K         the gateway's client key (FLOTILLA_CLIENT_KEY)
  --name N               the worker's name in the fleet (default: its id)
  --id ID                a stable worker id; a reconnect with the same id replaces the old connection
  --max-concurrency C    requests served at once
  --upstream URL         relay to a local inference server, e.g. http://127.0.0.1:11434
  --upstream-kind K      ollama|openai (probed when absent)
  --model [NAME=]FILE    serve a GGUF file with the embedded llama.cpp engine; repeatable
  --json                 log as JSON lines
  --queue NAME           be a queue worker instead (seed 001): run the queue's deployment and feed it tasks
  --key K                with --queue: the gateway's admin key (FLOTILLA_API_KEY, else FLOTILLA_ADMIN_KEY)
  --work-dir D           with --queue: where deployments are cloned (./data/queue-workers)
`;

/** `flotilla worker`: joins a gateway's fleet from behind NAT, serving a local server or GGUF files. */
export async function worker(argv: string[]): Promise<number | void> {
  let values: ReturnType<typeof parse>;
  try {
    values = parse(argv);
  } catch (err) {
    process.stderr.write(`flotilla worker: ${(err as Error).message}\n\n${WORKER_HELP}`);
    return 2;
  }
  const problem = check(values);
  if (problem) {
    process.stderr.write(`flotilla worker: ${problem}\n\n${WORKER_HELP}`);
    return 2;
  }
  const log = (message: string) =>
    process.stdout.write(values.json ? `${JSON.stringify({ time: new Date().toISOString(), msg: message })}\n` : `${new Date().toISOString()} ${message}\n`);
  if (values.queue) return queueWorker(values, log);
  const maxConcurrency = values["max-concurrency"] === undefined ? undefined : Number(values["max-concurrency"]);

  let backend: LocalServer;
  if (values.upstream) {
    backend = await UpstreamRelay.open(values.upstream, values["upstream-kind"] as "ollama" | "openai" | undefined, log);
  } else {
    const { LlamaEngine } = await import("../engine/llama-engine.js");
    const models = (values.model ?? []).map(parseModelSpec);
    log(`loading ${models.map((m) => `${m.name} (${m.path})`).join(", ")}`);
    backend = await LlamaEngine.open({ models, maxConcurrency, log });
  }

  const agent = runWorkerAgent({
    server: values.server as string,
    clientKey: values["client-key"] ?? process.env.FLOTILLA_CLIENT_KEY,
    name: values.name,
    workerId: values.id,
    maxConcurrency,
    backend,
    log,
  });
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      log(`${signal}: stopping`);
      void agent
        .stop()
        .then(() => backend.close())
        .finally(resolve);
    };
    process.once("SIGINT", () => stop("SIGINT"));
    process.once("SIGTERM", () => stop("SIGTERM"));
  });
}

function parse(argv: string[]) {
  return parseArgs({ args: argv, options: OPTIONS, strict: true, allowPositionals: false }).values;
}

function check(values: ReturnType<typeof parse>): string | undefined {
  if (!values.server) return "--server URL is required";
  try {
    const protocol = new URL(values.server).protocol;
    if (!["http:", "https:", "ws:", "wss:"].includes(protocol)) return `--server must be an http(s) or ws(s) URL, got ${values.server}`;
  } catch {
    return `--server: "${values.server}" is not a URL`;
  }
  if (values.queue) return values.upstream || values.model?.length ? "--queue takes no --upstream or --model: the queue's deployment is what runs" : undefined;
  if (Boolean(values.upstream) === Boolean(values.model?.length)) return "give either --upstream URL or one or more --model FILE";
  if (values["upstream-kind"] !== undefined && !["ollama", "openai"].includes(values["upstream-kind"])) return "--upstream-kind must be ollama or openai";
  const upstream = values.upstream === undefined ? undefined : serverUrlProblem(values.upstream);
  if (upstream) return `--upstream: ${upstream}`;
  const max = values["max-concurrency"];
  if (max !== undefined && !(Number.isInteger(Number(max)) && Number(max) >= 1)) return "--max-concurrency must be a whole number ≥ 1";
  return undefined;
}

/** `flotilla worker --queue NAME`: a queue worker that runs the queue's deployment until stopped. */
async function queueWorker(values: ReturnType<typeof parse>, log: (message: string) => void): Promise<number | void> {
  const agent = new QueueAgent({
    client: GatewayClient.from({ server: values.server, key: values.key }, process.env),
    queue: values.queue as string,
    workerId: values.id ?? `${hostname()}-${process.pid}`,
    workDir: values["work-dir"] ?? "./data/queue-workers",
    log,
  });
  try {
    await agent.start();
  } catch (err) {
    process.stderr.write(`flotilla worker: ${(err as Error).message}\n`);
    return 1;
  }
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      log(`${signal}: stopping`);
      void agent.stop().finally(resolve);
    };
    process.once("SIGINT", () => stop("SIGINT"));
    process.once("SIGTERM", () => stop("SIGTERM"));
  });
}

/**
 * A simulated server as its own process, for the benchmark:
 *   node dist/test/sim/cli.js --kind openai --port 0 --latency-ms 1 --answer-bytes 1024 --tokens 32 --models a,b
 * prints {"url","port"} on one line once listening and runs until SIGTERM.
 * `--tokens N` scripts N word tokens. Requests are not recorded (a long run would hold them all).
 */
import { parseArgs } from "node:util";
import { startSim } from "./index.js";

const { values } = parseArgs({
  options: {
    kind: { type: "string", default: "openai" },
    port: { type: "string", default: "0" },
    "latency-ms": { type: "string", default: "0" },
    "token-interval-ms": { type: "string", default: "0" },
    "cold-load-ms": { type: "string", default: "0" },
    "answer-bytes": { type: "string" },
    tokens: { type: "string" },
    models: { type: "string" },
    loaded: { type: "string" },
  },
});

const list = (value: string | undefined) => value?.split(",").filter(Boolean);
const sim = await startSim({
  kind: values.kind === "ollama" ? "ollama" : "openai",
  port: Number(values.port),
  latencyMs: Number(values["latency-ms"]),
  tokenIntervalMs: Number(values["token-interval-ms"]),
  coldLoadMs: Number(values["cold-load-ms"]),
  answerBytes: values["answer-bytes"] ? Number(values["answer-bytes"]) : undefined,
  tokens: values.tokens ? Array.from({ length: Number(values.tokens) }, (_, i) => `tok${i} `) : undefined,
  models: list(values.models),
  loaded: list(values.loaded),
  recordRequests: false,
});
process.stdout.write(`${JSON.stringify({ url: sim.url, port: sim.port })}\n`);
for (const signal of ["SIGTERM", "SIGINT"] as const) process.once(signal, () => void sim.close().then(() => process.exit(0)));

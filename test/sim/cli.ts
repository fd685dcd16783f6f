/**
 * A simulated server as its own process, for the benchmark:
 *   node dist/test/sim/cli.js --kind openai --port 0 --latency-ms 1 --answer-bytes 1024 --tokens 32 --models a,b
 * prints {"url","port"} on one line once listening; runs until SIGTERM.
 */
import { parseArgs } from "node:util";
import { startSim } from "./index.js";

const { values } = parseArgs({
  options: {
    kind: { type: "string", default: "openai" },
    port: { type: "string", default: "0" },
    "latency-ms": { type: "string", default: "0" },
    "answer-bytes": { type: "string" },
    tokens: { type: "string" },
    models: { type: "string" },
  },
});

const kind = values.kind === "ollama" ? "ollama" : "openai";
const sim = await startSim({
  kind,
  port: Number(values.port),
  latencyMs: Number(values["latency-ms"]),
  answerBytes: values["answer-bytes"] ? Number(values["answer-bytes"]) : undefined,
  tokens: values.tokens ? Array.from({ length: Number(values.tokens) }, (_, i) => `tok${i} `) : undefined,
  models: values.models?.split(","),
});
process.stdout.write(`${JSON.stringify({ url: sim.url, port: sim.port })}\n`);
for (const signal of ["SIGTERM", "SIGINT"] as const) process.once(signal, () => void sim.close().then(() => process.exit(0)));

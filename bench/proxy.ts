/**
 * npm run bench:proxy — what Flotilla adds to a request.
 *
 * Starts a constant-latency simulated OpenAI-compatible upstream and a real
 * Flotilla process in front of it, then sends the same load directly and
 * through the gateway, alternating in rounds so machine noise hits both alike.
 * Prints p50/p99 latency, the added latency, throughput and the gateway's RSS.
 * A benchmark prints figures; it asserts nothing.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Pool } from "undici";

const KEY = "flt_bench_admin_key_0123456789";
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const LATENCY_REQUESTS = Number(process.env.BENCH_REQUESTS ?? 400);
const THROUGHPUT_MS = Number(process.env.BENCH_THROUGHPUT_MS ?? 2000);
const CONCURRENCY = 16;
const UPSTREAM_LATENCY_MS = 1;
const STREAM_TOKENS = 32;

interface Scenario {
  name: string;
  model: string;
  stream: boolean;
}

const SCENARIOS: Scenario[] = [
  { name: "non-streaming, 1 KB answer", model: "bench-1k", stream: false },
  { name: `streaming, ${STREAM_TOKENS} tokens`, model: "bench-stream", stream: true },
];

function startProcess(args: string[], env: Record<string, string>, ready: RegExp): Promise<{ proc: ChildProcess; match: RegExpExecArray }> {
  const proc = spawn(process.execPath, args, { env: { PATH: process.env.PATH ?? "", ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  return new Promise((resolve, reject) => {
    const onData = (d: Buffer) => {
      output += d.toString();
      const match = ready.exec(output);
      if (match) {
        proc.stdout?.off("data", onData);
        resolve({ proc, match });
      }
    };
    proc.stdout?.on("data", onData);
    proc.stderr?.on("data", (d: Buffer) => (output += d.toString()));
    proc.once("exit", (code) => reject(new Error(`${args.join(" ")} exited with ${code}:\n${output}`)));
  });
}

async function startSimProcess(model: string, extra: string[]): Promise<{ proc: ChildProcess; url: string }> {
  const { proc, match } = await startProcess(
    ["dist/test/sim/cli.js", "--kind", "openai", "--port", "0", "--latency-ms", String(UPSTREAM_LATENCY_MS), "--models", model, ...extra],
    {},
    /(\{"url".*\})\n/,
  );
  return { proc, url: (JSON.parse(match[1]) as { url: string }).url };
}

function rssMb(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, "utf8").split("\n").find((l) => l.startsWith("VmRSS:")) ?? "VmRSS: 0 kB";
  return Math.round(Number(line.replace(/\D+/g, "")) / 102.4) / 10;
}

function body(s: Scenario): string {
  return JSON.stringify({ model: s.model, stream: s.stream, messages: [{ role: "user", content: "benchmark me" }] });
}

async function once(pool: Pool, payload: string): Promise<number> {
  const started = performance.now();
  const res = await pool.request({
    path: "/v1/chat/completions",
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${KEY}` },
    body: payload,
  });
  await res.body.dump({ limit: Infinity });
  if (res.statusCode !== 200) throw new Error(`status ${res.statusCode}`);
  return performance.now() - started;
}

/** Sequential requests: latency without queueing. */
async function latencies(pool: Pool, payload: string, n: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(await once(pool, payload));
  return out;
}

/** CONCURRENCY closed loops for a fixed time: requests per second. */
async function throughput(pool: Pool, payload: string, ms: number): Promise<number> {
  const end = performance.now() + ms;
  let done = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (performance.now() < end) {
        await once(pool, payload);
        done++;
      }
    }),
  );
  return (done * 1000) / ms;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ms = (x: number) => `${x.toFixed(3)} ms`;

async function main(): Promise<void> {
  const sim1k = await startSimProcess("bench-1k", ["--answer-bytes", "1024"]);
  const simStream = await startSimProcess("bench-stream", ["--tokens", String(STREAM_TOKENS)]);
  const dataDir = mkdtempSync(join(tmpdir(), "flotilla-bench-"));
  const { proc: gateway, match } = await startProcess(
    ["dist/src/main.js", "serve", "--port", "0", "--host", "127.0.0.1", "--data-dir", dataDir, "--log-level", "warn",
      "--server", `${sim1k.url},openai`, "--server", `${simStream.url},openai`],
    { FLOTILLA_ADMIN_KEY: KEY },
    /flotilla listening on (http:\/\/\S+)/,
  );
  const gatewayUrl = match[1];
  const rssBefore = rssMb(gateway.pid as number);
  try {
    for (const scenario of SCENARIOS) {
      const payload = body(scenario);
      const direct = new Pool(scenario.model === "bench-1k" ? sim1k.url : simStream.url, { connections: CONCURRENCY });
      const through = new Pool(gatewayUrl, { connections: CONCURRENCY });
      await latencies(direct, payload, 200);
      await latencies(through, payload, 200);
      const d: number[] = [];
      const t: number[] = [];
      const dRps: number[] = [];
      const tRps: number[] = [];
      for (let round = 0; round < ROUNDS; round++) {
        d.push(...(await latencies(direct, payload, LATENCY_REQUESTS)));
        t.push(...(await latencies(through, payload, LATENCY_REQUESTS)));
        dRps.push(await throughput(direct, payload, THROUGHPUT_MS));
        tRps.push(await throughput(through, payload, THROUGHPUT_MS));
      }
      d.sort((a, b) => a - b);
      t.sort((a, b) => a - b);
      const added50 = percentile(t, 50) - percentile(d, 50);
      const added99 = percentile(t, 99) - percentile(d, 99);
      const lines = [
        `## ${scenario.name}`,
        "",
        `| | p50 | p99 | req/s at ${CONCURRENCY} connections (median of rounds) |`,
        "| --- | --- | --- | --- |",
        `| direct | ${ms(percentile(d, 50))} | ${ms(percentile(d, 99))} | ${median(dRps).toFixed(0)} |`,
        `| through Flotilla | ${ms(percentile(t, 50))} | ${ms(percentile(t, 99))} | ${median(tRps).toFixed(0)} |`,
        `| added | **${ms(added50)}** | **${ms(added99)}** | ratio ${(median(tRps) / median(dRps)).toFixed(2)} |`,
      ];
      if (scenario.stream) lines.push("", `Added per streamed chunk (p50 added / ${STREAM_TOKENS} chunks): ${ms(added50 / STREAM_TOKENS)}`);
      process.stdout.write(`${lines.join("\n")}\n\n`);
      await direct.close();
      await through.close();
    }
    const rssAfter = rssMb(gateway.pid as number);
    const summary = `Gateway RSS: ${rssBefore} MB before, ${rssAfter} MB after. ${ROUNDS} rounds × ${LATENCY_REQUESTS} sequential requests per side, upstream latency ${UPSTREAM_LATENCY_MS} ms, Node ${process.version}.`;
    process.stdout.write(`${summary}\n`);
  } finally {
    gateway.kill("SIGTERM");
    sim1k.proc.kill("SIGTERM");
    simStream.proc.kill("SIGTERM");
    await new Promise((r) => gateway.once("exit", r));
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exitCode = 1;
});

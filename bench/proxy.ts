/**
 * npm run bench:proxy — what Flotilla adds to a request.
 *
 * Starts a constant-latency simulated OpenAI-compatible upstream and a real
 * Flotilla process in front of it, and a second Flotilla that reaches the same
 * upstream through a dial-in worker (gateway → WebSocket → `flotilla worker` →
 * upstream). Sends the same load directly and through each, alternating in
 * rounds so machine noise hits all alike.
 * Prints p50/p99 latency, the added latency, throughput and the gateway's RSS.
 * A benchmark prints figures; it asserts nothing.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync, mkdtempSync, rmSync } from "node:fs";
import os, { tmpdir } from "node:os";
import { join } from "node:path";
import { Pool } from "undici";
import { startProcess, startUrlProcess } from "./processes.js";

const KEY = "flt_bench_admin_key_0123456789";
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const LATENCY_REQUESTS = Number(process.env.BENCH_REQUESTS ?? 400);
const THROUGHPUT_MS = Number(process.env.BENCH_THROUGHPUT_MS ?? 2000);
const CONCURRENCY = 16;
/** Upstream latencies to run: 0 shows the gateway's own cost best; 1 ms is nearer a real server's event loop. */
const UPSTREAM_LATENCIES_MS = (process.env.BENCH_LATENCIES ?? "0,1").split(",").map(Number);
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

function startSimProcess(model: string, latencyMs: number, extra: string[]) {
  return startUrlProcess(["dist/test/sim/cli.js", "--kind", "openai", "--port", "0", "--latency-ms", String(latencyMs), "--models", model, ...extra]);
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

const FLOTILLA = "**Flotilla**";
const VIA_WORKER = "**Flotilla → worker**";

interface Target {
  name: string;
  pool: Pool;
}

/** One scenario against direct, the bare proxy and Flotilla, alternating in rounds. */
async function measure(scenario: Scenario, targets: Target[]): Promise<string[]> {
  const payload = body(scenario);
  const lat = targets.map(() => [] as number[]);
  const rps = targets.map(() => [] as number[]);
  for (const t of targets) await latencies(t.pool, payload, 200);
  for (let round = 0; round < ROUNDS; round++) {
    for (const [i, t] of targets.entries()) lat[i].push(...(await latencies(t.pool, payload, LATENCY_REQUESTS)));
    for (const [i, t] of targets.entries()) rps[i].push(await throughput(t.pool, payload, THROUGHPUT_MS));
  }
  lat.forEach((l) => l.sort((a, b) => a - b));
  const [direct] = lat;
  const rows = targets.map((t, i) => {
    const added = i === 0 ? "" : ` (+${ms(percentile(lat[i], 50) - percentile(direct, 50))} / +${ms(percentile(lat[i], 99) - percentile(direct, 99))})`;
    const ratio = i === 0 ? "" : ` (${(median(rps[i]) / median(rps[0])).toFixed(2)}×)`;
    return `| ${t.name} | ${ms(percentile(lat[i], 50))} | ${ms(percentile(lat[i], 99))} | ${added.trim() || "—"} | ${median(rps[i]).toFixed(0)}${ratio} |`;
  });
  const flotilla = targets.findIndex((t) => t.name === FLOTILLA);
  const viaWorker = targets.findIndex((t) => t.name === VIA_WORKER);
  const added = (i: number) => percentile(lat[i], 50) - percentile(direct, 50);
  const added50 = added(flotilla);
  const lines = [
    `### ${scenario.name}`,
    "",
    `| | p50 | p99 | added p50 / p99 | req/s at ${CONCURRENCY} connections |`,
    "| --- | --- | --- | --- | --- |",
    ...rows,
  ];
  if (scenario.stream) lines.push("", `Flotilla, added per streamed chunk (p50 added / ${STREAM_TOKENS} chunks): ${ms(added50 / STREAM_TOKENS)}`);
  lines.push("", `Worker path's added p50 over the polled path's: ${(added(viaWorker) / added50).toFixed(2)}×`);
  return lines;
}

function startGateway(dataDir: string, args: string[]) {
  return startProcess(
    ["dist/src/main.js", "serve", "--port", "0", "--host", "127.0.0.1", "--data-dir", dataDir, "--log-level", "warn", ...args],
    { FLOTILLA_ADMIN_KEY: KEY, FLOTILLA_EMBEDDED__TINY: "off" },
    /flotilla listening on (http:\/\/\S+)/,
  );
}

/** Waits until the gateway lists `count` workers that are up with their models. */
async function workersReady(url: string, count: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const res = await fetch(`${url}/admin/servers`, { headers: { authorization: `Bearer ${KEY}` } });
    const { servers } = (await res.json()) as { servers: Array<{ kind: string; up: boolean; loaded: string[] }> };
    if (servers.filter((s) => s.kind === "worker" && s.up && s.loaded.length > 0).length === count) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error("the bench workers did not register");
}

async function runAtLatency(latencyMs: number): Promise<void> {
  const sims = { "bench-1k": await startSimProcess("bench-1k", latencyMs, ["--answer-bytes", "1024"]), "bench-stream": await startSimProcess("bench-stream", latencyMs, ["--tokens", String(STREAM_TOKENS)]) };
  const dataDir = mkdtempSync(join(tmpdir(), "flotilla-bench-"));
  const { proc: gateway, match } = await startGateway(dataDir, ["--server", `${sims["bench-1k"].url},openai`, "--server", `${sims["bench-stream"].url},openai`]);
  const { proc: workerGateway, match: workerMatch } = await startGateway(join(dataDir, "w"), []);
  const workers = Object.values(sims).map((sim, i) =>
    spawn(process.execPath, ["dist/src/main.js", "worker", "--server", workerMatch[1], "--name", `bench-${i}`, "--upstream", sim.url, "--upstream-kind", "openai"], {
      stdio: "ignore",
    }),
  );
  await workersReady(workerMatch[1], workers.length);
  const rssBefore = rssMb(gateway.pid as number);
  const bares: Array<{ proc: ChildProcess }> = [];
  try {
    process.stdout.write(`## Upstream latency ${latencyMs} ms\n\n`);
    for (const scenario of SCENARIOS) {
      const upstream = sims[scenario.model as keyof typeof sims].url;
      const bare = await startUrlProcess(["dist/bench/bare-proxy.js", upstream]);
      bares.push(bare);
      const targets = [
        { name: "direct", pool: new Pool(upstream, { connections: CONCURRENCY }) },
        { name: "bare Node proxy (floor)", pool: new Pool(bare.url, { connections: CONCURRENCY }) },
        { name: FLOTILLA, pool: new Pool(match[1], { connections: CONCURRENCY }) },
        { name: VIA_WORKER, pool: new Pool(workerMatch[1], { connections: CONCURRENCY }) },
      ];
      process.stdout.write(`${(await measure(scenario, targets)).join("\n")}\n\n`);
      await Promise.all(targets.map((t) => t.pool.close()));
    }
    process.stdout.write(`Flotilla RSS: ${rssBefore} MB before, ${rssMb(gateway.pid as number)} MB after.\n\n`);
  } finally {
    for (const p of [gateway, workerGateway, ...workers, sims["bench-1k"].proc, sims["bench-stream"].proc, ...bares.map((b) => b.proc)]) p.kill("SIGTERM");
    await Promise.all([gateway, workerGateway].map((p) => new Promise((r) => p.once("exit", r))));
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  process.stdout.write(
    `${ROUNDS} rounds × ${LATENCY_REQUESTS} sequential requests per target for latency, and ${THROUGHPUT_MS} ms at ${CONCURRENCY} connections for throughput; Node ${process.version}, ${os.cpus().length} cores.\n\n`,
  );
  for (const latencyMs of UPSTREAM_LATENCIES_MS) await runAtLatency(latencyMs);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exitCode = 1;
});

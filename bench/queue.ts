/**
 * npm run bench:queue — the job queue over HTTP, on SQLite, on Redis and on BullMQ.
 *
 * Throughput: a real gateway with a `consumer: workers` queue; this process
 * enqueues no-op tasks over HTTP, one per `POST /queue/add` from many
 * connections at once, or a thousand per `POST /queue/bulk`; then queue
 * workers made of plain HTTP calls claim up to 20 at a time
 * (`/worker/tasks/claim` with max_tasks) and hand them in together
 * (`/worker/tasks/complete`). A third run has the workers drain while the
 * tasks are still being queued one per call, as a queue in steady state.
 *
 * Interactive latency: a simulated Ollama server (constant latency, four slots)
 * behind the gateway; the p50 and p99 of interactive requests one after
 * another, first idle, then while a `consumer: gateway` batch queue keeps the
 * server saturated; each followed by the same request straight to the server,
 * so that what the machine's load does to every request can be told apart from
 * what the gateway adds.
 *
 * Redis (Flotilla's scripts, and BullMQ) is measured when it answers at REDIS_URL (default the local one).
 * BENCH_ONLY=throughput or =interactive runs one half; BENCH_GATEWAY_NODE_FLAGS
 * are given to the gateways' node (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof" to profile them).
 * A benchmark prints figures; it asserts nothing.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os, { tmpdir } from "node:os";
import { join } from "node:path";
import { Pool } from "undici";
import { pingRedis, removeRedisKeys } from "../src/store/test-backends.js";
import { startProcess, startUrlProcess } from "./processes.js";

const KEY = "flt_bench_admin_key_0123456789";
const TASKS = Number(process.env.BENCH_TASKS ?? 10_000);
const WARMUP = Number(process.env.BENCH_WARMUP_TASKS ?? 3_000);
const ENQUEUERS = Number(process.env.BENCH_ENQUEUERS ?? 32);
const WORKERS = Number(process.env.BENCH_WORKERS ?? 8);
const CLAIM_BATCH = Number(process.env.BENCH_CLAIM_BATCH ?? 20);
const BULK = 1000;
const INTERACTIVE = Number(process.env.BENCH_INTERACTIVE ?? 600);
const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";

interface Backend {
  name: string;
  env: Record<string, string>;
}

async function withGateway<T>(yaml: string, backend: Backend, fn: (url: string) => Promise<T>): Promise<T> {
  const dataDir = mkdtempSync(join(tmpdir(), "flotilla-bench-queue-"));
  const file = join(dataDir, "flotilla.yaml");
  writeFileSync(file, yaml);
  const prefix = `flotilla-bench:${process.pid}:${Date.now()}:`;
  const { proc, match } = await startProcess(
    [...(process.env.BENCH_GATEWAY_NODE_FLAGS?.split(" ").filter(Boolean) ?? []), "dist/src/main.js", "serve", "--port", "0", "--host", "127.0.0.1", "--data-dir", dataDir, "--config", file, "--log-level", "warn"],
    { FLOTILLA_ADMIN_KEY: KEY, FLOTILLA_EMBEDDED__TINY: "off", FLOTILLA_REDIS_PREFIX: prefix, ...backend.env },
    /flotilla listening on (http:\/\/\S+)/,
  );
  try {
    return await fn(match[1] as string);
  } finally {
    proc.kill("SIGTERM");
    await new Promise((resolve) => proc.once("exit", resolve));
    rmSync(dataDir, { recursive: true, force: true });
    if (backend.env.REDIS_URL) await removeRedisKeys(REDIS_URL, prefix);
  }
}

async function post(pool: Pool, path: string, body: unknown): Promise<{ status: number; json: unknown }> {
  const res = await pool.request({ method: "POST", path, headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json" }, body: JSON.stringify(body) });
  const text = await res.body.text();
  return { status: res.statusCode, json: text ? (JSON.parse(text) as unknown) : undefined };
}

const rate = (n: number, ms: number) => Math.round(n / (ms / 1000));

interface Throughput {
  enqueue: number;
  /** undefined when the workers drained while tasks were still being queued */
  drain: number | undefined;
  both: number;
}

/** Queues `count` tasks: one per POST /queue/add from ENQUEUERS connections, or BULK per POST /queue/bulk from a few. */
async function enqueueAll(pool: Pool, bulk: boolean, count: number): Promise<void> {
  let sent = 0;
  const connections = bulk ? 4 : ENQUEUERS;
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (sent < count) {
        const n = bulk ? Math.min(BULK, count - sent) : 1;
        const first = sent;
        sent += n;
        const res = bulk
          ? await post(pool, "/queue/bulk", { queue: "noop", tasks: Array.from({ length: n }, (_, i) => ({ data: { n: first + i } })) })
          : await post(pool, "/queue/add", { queue: "noop", data: { n: first } });
        if (res.status !== 200) throw new Error(`enqueue answered ${res.status}`);
      }
    }),
  );
}

/**
 * Workers claim up to CLAIM_BATCH tasks at a time and hand their results in together, until `count`
 * are done. Gives when the last was handed in (a worker still long-polling then is not counted).
 */
async function drainAll(pool: Pool, count: number): Promise<number> {
  let completed = 0;
  let doneAt = 0;
  await Promise.all(
    Array.from({ length: WORKERS }, async (_, w) => {
      const worker_id = `bench-${w}`;
      while (completed < count) {
        const claim = await post(pool, "/worker/tasks/claim", { worker_id, queue: "noop", wait_ms: 200, max_tasks: CLAIM_BATCH });
        if (claim.status === 204) continue;
        const { tasks } = claim.json as { tasks: Array<{ id: string }> };
        await post(pool, "/worker/tasks/complete", { worker_id, results: tasks.map((task) => ({ id: task.id, result: null })) });
        completed += tasks.length;
        if (completed >= count && !doneAt) doneAt = performance.now();
      }
    }),
  );
  return doneAt;
}

type Mode = "add" | "bulk" | "together";
const MODES: Record<Mode, string> = {
  add: "POST /queue/add, one a call",
  bulk: `POST /queue/bulk, ${BULK} a call`,
  together: "POST /queue/add, one a call, workers draining meanwhile",
};

async function throughput(backend: Backend, mode: Mode): Promise<Throughput> {
  return withGateway("queues:\n  - { name: noop, consumer: workers, retries: 0 }\n", backend, async (url) => {
    const pool = new Pool(url, { connections: ENQUEUERS + WORKERS });
    try {
      for (let w = 0; w < WORKERS; w++) await post(pool, "/worker/register", { worker_id: `bench-${w}`, queue: "noop" });
      // A first round through the same calls, unmeasured, so that the figures are of a warmed-up gateway (JIT, connections).
      await enqueueAll(pool, mode === "bulk", WARMUP);
      await drainAll(pool, WARMUP);
      const started = performance.now();
      if (mode === "together") {
        // A queue in steady state: producers and consumers at once; the drain ends with the last completion.
        let queuedAt = 0;
        const [, drainedAt] = await Promise.all([enqueueAll(pool, false, TASKS).then(() => (queuedAt = performance.now())), drainAll(pool, TASKS)]);
        return { enqueue: rate(TASKS, queuedAt - started), drain: undefined, both: rate(TASKS, drainedAt - started) };
      }
      // First every task is queued, with no worker taking any; then the workers drain the queue.
      await enqueueAll(pool, mode === "bulk", TASKS);
      const queuedAt = performance.now();
      const drainedAt = await drainAll(pool, TASKS);
      return { enqueue: rate(TASKS, queuedAt - started), drain: rate(TASKS, drainedAt - queuedAt), both: rate(TASKS, drainedAt - started) };
    } finally {
      await pool.close();
    }
  });
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}

type Percentiles = [p50: number, p99: number];
interface Interactive {
  idle: { gateway: Percentiles; direct: Percentiles };
  busy: { gateway: Percentiles; direct: Percentiles };
  pendingAfter: number;
}

async function interactive(backend: Backend): Promise<Interactive> {
  const { proc: sim, url: simUrl } = await startUrlProcess(["dist/test/sim/cli.js", "--kind", "ollama", "--port", "0", "--latency-ms", "20", "--models", "m:latest", "--loaded", "m:latest"]);
  const yaml = [
    "servers:",
    `  - { name: gpu, url: "${simUrl}", kind: ollama, max_concurrency: 4 }`,
    "queues:",
    "  - { name: bulk, concurrency: 16 }",
    "task_runner: { max_running: 16 }",
  ].join("\n");
  try {
    return await withGateway(yaml, backend, async (url) => {
      const pool = new Pool(url, { connections: 8 });
      const direct = new Pool(simUrl, { connections: 2 });
      const chat = (content: string) => ({ model: "m", messages: [{ role: "user", content }], stream: false });
      // The same request through the gateway and straight to the server, taking turns: the machine's noise falls on both.
      const measure = async (): Promise<{ gateway: Percentiles; direct: Percentiles }> => {
        const through: number[] = [];
        const straight: number[] = [];
        for (let i = 0; i < INTERACTIVE; i++) {
          for (const [target, times] of [[pool, through], [direct, straight]] as const) {
            const started = performance.now();
            const res = await post(target, "/api/chat", chat(`q${i}`));
            if (res.status !== 200) throw new Error(`interactive request answered ${res.status}`);
            times.push(performance.now() - started);
          }
        }
        const p = (times: number[]): Percentiles => {
          times.sort((a, b) => a - b);
          return [percentile(times, 50), percentile(times, 99)];
        };
        return { gateway: p(through), direct: p(straight) };
      };
      try {
        await measure(); // warm up
        const idle = await measure();
        // Enough batch work to keep the server's batch slots full for the whole busy measurement.
        const batch = Math.ceil(INTERACTIVE * 2 * 1.5 * 4);
        for (let i = 0; i < batch; i += BULK) {
          await post(pool, "/queue/bulk", { queue: "bulk", tasks: Array.from({ length: Math.min(BULK, batch - i) }, (_, j) => ({ data: { api: "ollama", ...chat(`batch ${i + j}`) } })) });
        }
        const busy = await measure();
        const { counts } = (await (await pool.request({ method: "GET", path: "/api/cli/queues/bulk", headers: { authorization: `Bearer ${KEY}` } })).body.json()) as { counts: Record<string, number> };
        return { idle, busy, pendingAfter: counts.pending ?? 0 };
      } finally {
        await Promise.all([pool.close(), direct.close()]);
      }
    });
  } finally {
    sim.kill("SIGTERM");
  }
}

async function main(): Promise<void> {
  const backends: Backend[] = [{ name: "SQLite", env: {} }];
  if (await pingRedis(REDIS_URL)) {
    backends.push({ name: "Redis", env: { REDIS_URL, FLOTILLA_QUEUE_BACKEND: "redis" } });
    backends.push({ name: "BullMQ", env: { REDIS_URL, FLOTILLA_QUEUE_BACKEND: "bullmq" } });
  }
  else console.log(`(Redis does not answer at ${REDIS_URL}: measuring SQLite only)\n`);
  console.log(`Node ${process.version}, ${os.cpus().length} cores; ${TASKS} no-op tasks (after ${WARMUP} unmeasured), ${ENQUEUERS} enqueuing connections, ${WORKERS} workers claiming and completing up to ${CLAIM_BATCH} at a time, all over HTTP.\n`);
  console.log("| backend | enqueued by | enqueue | drain (claim + complete) | end to end |");
  console.log("| --- | --- | --- | --- | --- |");
  for (const backend of process.env.BENCH_ONLY === "interactive" ? [] : backends) {
    for (const mode of Object.keys(MODES) as Mode[]) {
      const r = await throughput(backend, mode);
      console.log(`| ${backend.name} | ${MODES[mode]} | ${r.enqueue} tasks/s | ${r.drain === undefined ? "—" : `${r.drain} tasks/s`} | ${r.both} tasks/s |`);
    }
  }
  if (process.env.BENCH_ONLY === "throughput") return;
  console.log(`\nInteractive /api/chat, ${INTERACTIVE} one after another through the gateway, each followed by the same request straight to the server (20 ms latency, 4 slots, 1 kept for interactive work):\n`);
  console.log("| backend | idle: gateway p50 / p99 | idle: direct p99 | busy: gateway p50 / p99 | busy: direct p99 | gateway p99 busy/idle | added at p99, idle → busy | batch pending after |");
  console.log("| --- | --- | --- | --- | --- | --- | --- | --- |");
  for (const backend of backends) {
    const { idle, busy, pendingAfter } = await interactive(backend);
    const ms = (n: number) => `${n.toFixed(1)} ms`;
    console.log(
      `| ${backend.name} | ${ms(idle.gateway[0])} / ${ms(idle.gateway[1])} | ${ms(idle.direct[1])} | ${ms(busy.gateway[0])} / ${ms(busy.gateway[1])} | ${ms(busy.direct[1])} | ${(busy.gateway[1] / idle.gateway[1]).toFixed(2)} | ${ms(idle.gateway[1] - idle.direct[1])} → ${ms(busy.gateway[1] - busy.direct[1])} | ${pendingAfter} |`,
    );
  }
}

await main();

/**
 * npm run bench:queue — the job queue's throughput over HTTP, on SQLite.
 *
 * Starts a real gateway with a `consumer: workers` queue; this process
 * enqueues no-op tasks over HTTP (`POST /queue/add`) from many connections
 * at once, and queue workers made of plain HTTP calls claim and complete them
 * (`/worker/tasks/claim`, `/complete`). Prints the enqueue rate, and the rate
 * at which tasks were enqueued and completed end to end.
 * A benchmark prints figures; it asserts nothing.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import os, { tmpdir } from "node:os";
import { join } from "node:path";
import { Pool } from "undici";

const KEY = "flt_bench_admin_key_0123456789";
const TASKS = Number(process.env.BENCH_TASKS ?? 5000);
const ENQUEUERS = Number(process.env.BENCH_ENQUEUERS ?? 32);
const WORKERS = Number(process.env.BENCH_WORKERS ?? 8);

async function startGateway(dataDir: string): Promise<{ proc: ChildProcess; url: string }> {
  const yaml = "queues:\n  - { name: noop, consumer: workers, retries: 0 }\n";
  const file = join(dataDir, "flotilla.yaml");
  (await import("node:fs")).writeFileSync(file, yaml);
  const proc = spawn(process.execPath, ["dist/src/main.js", "serve", "--port", "0", "--host", "127.0.0.1", "--data-dir", dataDir, "--config", file, "--log-level", "warn"], {
    env: { PATH: process.env.PATH ?? "", FLOTILLA_ADMIN_KEY: KEY, FLOTILLA_EMBEDDED__TINY: "off" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const url = await new Promise<string>((resolve, reject) => {
    proc.stdout?.on("data", (d: Buffer) => {
      output += d.toString();
      const match = /flotilla listening on (http:\/\/\S+)/.exec(output);
      if (match) resolve(match[1]);
    });
    proc.stderr?.on("data", (d: Buffer) => (output += d.toString()));
    proc.once("exit", (code) => reject(new Error(`gateway exited with ${code}:\n${output}`)));
  });
  return { proc, url };
}

async function post(pool: Pool, path: string, body: unknown): Promise<{ status: number; json: unknown }> {
  const res = await pool.request({ method: "POST", path, headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json" }, body: JSON.stringify(body) });
  const text = await res.body.text();
  return { status: res.statusCode, json: text ? (JSON.parse(text) as unknown) : undefined };
}

async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), "flotilla-bench-queue-"));
  const gateway = await startGateway(dataDir);
  const pool = new Pool(gateway.url, { connections: ENQUEUERS + WORKERS });
  try {
    for (let w = 0; w < WORKERS; w++) await post(pool, "/worker/register", { worker_id: `bench-${w}`, queue: "noop" });
    // First every task is queued, with no worker taking any; then the workers drain the queue.
    let enqueued = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: ENQUEUERS }, async () => {
        while (enqueued < TASKS) {
          enqueued++;
          const res = await post(pool, "/queue/add", { queue: "noop", data: { n: enqueued } });
          if (res.status !== 200) throw new Error(`enqueue answered ${res.status}`);
        }
      }),
    );
    const queuedAt = performance.now();
    let completed = 0;
    await Promise.all(
      Array.from({ length: WORKERS }, async (_, w) => {
        while (completed < TASKS) {
          const claim = await post(pool, "/worker/tasks/claim", { worker_id: `bench-${w}`, queue: "noop", wait_ms: 200 });
          if (claim.status === 204) continue;
          const { task } = claim.json as { task: { id: string } };
          await post(pool, `/worker/tasks/${task.id}/complete`, { worker_id: `bench-${w}`, result: null });
          completed++;
        }
      }),
    );
    const drainedAt = performance.now();
    console.log(`Node ${process.version}, ${os.cpus().length} cores; SQLite; ${TASKS} no-op tasks, ${ENQUEUERS} enqueuing connections, ${WORKERS} workers over HTTP.\n`);
    console.log("| measure | figure |");
    console.log("| --- | --- |");
    console.log(`| enqueue over HTTP (POST /queue/add) | ${Math.round(TASKS / ((queuedAt - started) / 1000))} tasks/s |`);
    console.log(`| drain by queue workers over HTTP (claim + complete) | ${Math.round(TASKS / ((drainedAt - queuedAt) / 1000))} tasks/s |`);
    console.log(`| both, end to end | ${Math.round(TASKS / ((drainedAt - started) / 1000))} tasks/s |`);
  } finally {
    await pool.close();
    gateway.proc.kill("SIGTERM");
    await new Promise((resolve) => gateway.proc.once("exit", resolve));
    rmSync(dataDir, { recursive: true, force: true });
  }
}

await main();

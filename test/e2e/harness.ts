import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { once } from "node:events";
import { startSim, type SimOptions, type SimServer } from "../sim/index.js";
import { redisSkipReason, redisTestPrefix, TEST_REDIS_URL } from "../../src/store/test-backends.js";

export const ADMIN_KEY = "flt_test_admin_key_0123456789";

export interface Flotilla {
  url: string;
  dataDir: string;
  proc: ChildProcess;
  /** Everything the process printed. */
  output(): string;
  /** SIGTERM and wait for exit; returns the exit code. */
  stop(): Promise<number | null>;
  /** fetch with the admin key. */
  admin(path: string, init?: RequestInit): Promise<Response>;
}

export interface StartOptions {
  servers?: string[];
  /** YAML written to a config file and passed with --config. */
  yaml?: string;
  args?: string[];
  env?: Record<string, string>;
  dataDir?: string;
  adminKey?: string | null;
}

const MAIN = join(process.cwd(), "dist/src/main.js");

/** Starts a real `flotilla serve` on a free loopback port and waits until it listens. */
export async function startFlotilla(options: StartOptions = {}): Promise<Flotilla> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), "flotilla-e2e-"));
  const args = [MAIN, "serve", "--port", "0", "--host", "127.0.0.1", "--data-dir", dataDir, "--log-level", "warn"];
  for (const server of options.servers ?? []) args.push("--server", server);
  if (options.yaml) {
    const file = join(dataDir, "flotilla.yaml");
    writeFileSync(file, options.yaml);
    args.push("--config", file);
  }
  args.push(...(options.args ?? []));
  // The tiny built-in model would load in every test that names no server; tests that want it say so.
  const env: Record<string, string> = { PATH: process.env.PATH ?? "", FLOTILLA_EMBEDDED__TINY: "off", ...options.env };
  const adminKey = options.adminKey === undefined ? ADMIN_KEY : options.adminKey;
  if (adminKey) env.FLOTILLA_ADMIN_KEY = adminKey;
  const proc = spawn(process.execPath, args, { env, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  proc.stdout?.on("data", (d: Buffer) => (output += d.toString()));
  proc.stderr?.on("data", (d: Buffer) => (output += d.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    // A process that hangs in its start is killed, so that it does not keep the test run alive.
    const timer = setTimeout(() => {
      proc.kill("SIGKILL");
      reject(new Error(`flotilla did not start in time:\n${output}`));
    }, 20_000);
    const check = () => {
      const match = /flotilla listening on (http:\/\/\S+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    proc.stdout?.on("data", check);
    proc.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`flotilla exited with ${code}:\n${output}`));
    });
  });
  proc.removeAllListeners("exit");
  return {
    url,
    dataDir,
    proc,
    output: () => output,
    async stop() {
      if (proc.exitCode !== null) return proc.exitCode;
      proc.kill("SIGTERM");
      const [code] = (await once(proc, "exit")) as [number | null];
      if (!options.dataDir) rmSync(dataDir, { recursive: true, force: true });
      return code;
    },
    admin(path, init = {}) {
      const headers = new Headers(init.headers);
      headers.set("authorization", `Bearer ${adminKey}`);
      if (init.body && !headers.has("content-type")) headers.set("content-type", "application/json");
      return fetch(url + path, { ...init, headers });
    },
  };
}

/** Makes a user (role user) and an inference key of their own, with the admin key; answers the key. */
export async function userKey(gw: Flotilla, username: string): Promise<string> {
  const created = await gw.admin("/api/users", { method: "POST", body: JSON.stringify({ username, password: "a long password" }) });
  const { id } = ((await created.json()) as { user: { id: string } }).user;
  const made = await gw.admin(`/api/users/${id}/api-key`, { method: "POST", body: "{}" });
  return ((await made.json()) as { key: string }).key;
}

/** Reads an NDJSON or SSE body into its records. */
export async function readLines(res: Response): Promise<string[]> {
  const text = await res.text();
  return text.split("\n").filter((l) => l.trim() !== "");
}

/** A loopback port that was free a moment ago. */
export async function freePort(): Promise<number> {
  const { createServer } = await import("node:net");
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Polls `check` until it returns a value other than undefined/false, or fails after `ms`. */
export async function waitFor<T>(what: string, check: () => T | undefined | false | Promise<T | undefined | false>, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** Simulated servers a test file starts; `closeAll` (in afterEach) closes them. */
export function simulators(): { start(options: SimOptions): Promise<SimServer>; closeAll(): Promise<void> } {
  const started: SimServer[] = [];
  return {
    async start(options) {
      const sim = await startSim(options);
      started.push(sim);
      return sim;
    },
    async closeAll() {
      await Promise.all(started.splice(0).map((s) => s.close()));
    },
  };
}

/** A gateway in front of one simulated Ollama server with model `m` loaded: what the accounts tests call models through. */
export async function startWithModelM(options: StartOptions = {}): Promise<{ gw: Flotilla; upstream: SimServer; stop(): Promise<void> }> {
  const upstream = await startSim({ kind: "ollama", models: ["m:latest"], loaded: ["m:latest"] });
  // A gateway that fails to start must not leave the simulator open: it would keep the test file from ever ending.
  const gw = await startFlotilla({ ...options, servers: [`${upstream.url},ollama`, ...(options.servers ?? [])] }).catch(async (err: unknown) => {
    await upstream.close();
    throw err;
  });
  return {
    gw,
    upstream,
    async stop() {
      await gw.stop();
      await upstream.close();
    },
  };
}

/** Runs the `flotilla` command as a person would, against `gw`, with the admin key in the environment. */
export function runCli(gw: Flotilla, args: string[], onStdout?: (text: string) => void): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const proc = spawn(process.execPath, [MAIN, ...args], { env: { PATH: process.env.PATH ?? "", FLOTILLA_API_KEY: ADMIN_KEY, FLOTILLA_SERVER: gw.url } });
    let stdout = "";
    let stderr = "";
    proc.stdout?.on("data", (d: Buffer) => {
      stdout += d.toString();
      onStdout?.(stdout);
    });
    proc.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
    proc.on("exit", (code) => resolve({ code, stdout, stderr }));
  });
}

/** Where a gateway under test keeps its queued tasks: env to start it with, skipped (with the reason) when Redis is absent. */
export interface TaskStoreUnderTest {
  name: "sqlite" | "redis" | "bullmq";
  skip: string | false;
  env: Record<string, string>;
  cleanup(): Promise<void>;
}

/**
 * The job queue's backends, for suites that must pass on each: the SQLite database, and Redis (Flotilla's scripts, and BullMQ) under fresh key prefixes.
 * `npm test` runs these end-to-end suites on SQLite only, to stay within its time; the backends' own conformance suites run on all three there,
 * and .ci/run runs these suites again with FLOTILLA_TEST_QUEUE_BACKENDS=redis,bullmq after it.
 */
export async function taskStores(): Promise<TaskStoreUnderTest[]> {
  const wanted = new Set((process.env.FLOTILLA_TEST_QUEUE_BACKENDS ?? "sqlite").split(",").map((name) => name.trim()));
  const redis = redisTestPrefix();
  const bullmq = redisTestPrefix();
  const skip = await redisSkipReason();
  const all: TaskStoreUnderTest[] = [
    { name: "sqlite", skip: false, env: {}, cleanup: async () => undefined },
    { name: "redis", skip, env: { REDIS_URL: TEST_REDIS_URL, FLOTILLA_REDIS_PREFIX: redis.prefix }, cleanup: redis.cleanup },
    { name: "bullmq", skip, env: { REDIS_URL: TEST_REDIS_URL, FLOTILLA_REDIS_PREFIX: bullmq.prefix, FLOTILLA_QUEUE_BACKEND: "bullmq" }, cleanup: bullmq.cleanup },
  ];
  return all.filter((store) => wanted.has(store.name));
}

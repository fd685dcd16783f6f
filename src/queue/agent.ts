import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from "node:child_process";
import { existsSync, mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import type { GatewayClient } from "../cli/client.js";

export interface QueueAgentOptions {
  client: GatewayClient;
  queue: string;
  workerId: string;
  /** Where deployments are cloned. */
  workDir: string;
  log(message: string): void;
}

interface Registration {
  queue: { name: string; mode: "one_shot" | "long_running" };
  deployment: { git_url: string; branch: string; startup_cmd: string; startup_timeout_secs: number; requirements_file?: string } | null;
  lease: { heartbeat_ms: number };
}

interface Claimed {
  id: string;
  data: unknown;
  timeout_ms: number;
}

/** What the task's process answers: a result, or an error (retried unless `retryable` is false). */
interface Answer {
  id?: string;
  result?: unknown;
  error?: string;
  retryable?: boolean;
}

const CLAIM_WAIT_MS = 20_000;
const RESTART_DELAY_MS = 500;

function run(cmd: string, args: string[], cwd?: string): void {
  const result = spawnSync(cmd, args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  if (result.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed: ${(result.stderr || result.stdout || String(result.error)).trim()}`);
}

/** Clones the deployment afresh and installs its requirements, when it names a file that exists. */
function prepare(deployment: NonNullable<Registration["deployment"]>, dir: string, log: (m: string) => void): void {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  log(`cloning ${deployment.git_url} (${deployment.branch})`);
  run("git", ["clone", "--quiet", "--depth", "1", "--branch", deployment.branch, deployment.git_url, dir]);
  const requirements = deployment.requirements_file;
  if (!requirements || !existsSync(join(dir, requirements))) return;
  log(`installing ${requirements}`);
  if (requirements.endsWith("package.json")) run("npm", ["install", "--no-audit", "--no-fund"], dir);
  else run("python3", ["-m", "pip", "install", "-r", requirements], dir);
}

/**
 * seed 001's queue worker: registers, clones the queue's deployment, starts
 * it, and feeds it tasks pulled over the gateway's API — as JSON lines on
 * stdin and stdout to one long-running process (restarted if it dies, its task
 * retried), or one process per task (`one_shot`).
 */
export class QueueAgent {
  private stopped = false;
  /** Ends a claim still waiting on the gateway when the agent stops. */
  private readonly stopping = new AbortController();
  private process: ChildProcessWithoutNullStreams | undefined;
  private lines: AsyncIterator<string> | undefined;
  private loop: Promise<void> | undefined;

  constructor(private readonly options: QueueAgentOptions) {}

  async start(): Promise<void> {
    const { client, queue, workerId, log } = this.options;
    const registration = await client.request<Registration>("POST", "/worker/register", { worker_id: workerId, queue });
    if (!registration.deployment) throw new Error(`queue "${queue}" has no deployment to run`);
    const dir = join(this.options.workDir, queue);
    prepare(registration.deployment, dir, log);
    if (registration.queue.mode === "long_running") await this.startProcess(registration, dir);
    log(`worker ${workerId} takes tasks of queue ${queue} (${registration.queue.mode})`);
    this.loop = this.work(registration, dir);
  }

  private async startProcess(registration: Registration, dir: string): Promise<void> {
    const deployment = registration.deployment as NonNullable<Registration["deployment"]>;
    const child = spawn("sh", ["-c", deployment.startup_cmd], { cwd: dir, stdio: ["pipe", "pipe", "pipe"] });
    child.stderr.on("data", (d: Buffer) => this.options.log(`[${this.options.queue}] ${d.toString().trimEnd()}`));
    this.process = child;
    this.lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
    const timeout = deployment.startup_timeout_secs * 1000;
    const ready = (async () => {
      for (;;) {
        const next = await (this.lines as AsyncIterator<string>).next();
        if (next.done) throw new Error(`${deployment.startup_cmd} exited before it said it was ready`);
        if (isReady(next.value)) return;
        this.options.log(`[${this.options.queue}] ${next.value}`);
      }
    })();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([ready, new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`${deployment.startup_cmd} did not say it was ready within ${deployment.startup_timeout_secs} s`)), timeout)))]).finally(() => clearTimeout(timer));
    this.options.log(`${deployment.startup_cmd} is ready`);
  }

  private async work(registration: Registration, dir: string): Promise<void> {
    const { client, queue, workerId, log } = this.options;
    while (!this.stopped) {
      let task: Claimed | undefined;
      try {
        task = (await client.request<{ task: Claimed } | undefined>("POST", "/worker/tasks/claim", { worker_id: workerId, queue, wait_ms: CLAIM_WAIT_MS }, this.stopping.signal))?.task;
      } catch (err) {
        if (this.stopped) break;
        log(`claim failed: ${(err as Error).message}`);
        await new Promise((resolve) => setTimeout(resolve, RESTART_DELAY_MS));
        continue;
      }
      if (!task) continue;
      const beat = setInterval(() => void client.request("POST", `/worker/tasks/${task?.id}/heartbeat`, { worker_id: workerId }).catch(() => undefined), registration.lease.heartbeat_ms);
      let answer: Answer;
      try {
        answer = registration.queue.mode === "long_running" ? await this.ask(task) : await runOnce(registration, dir, task);
      } catch (err) {
        answer = { error: (err as Error).message };
        if (registration.queue.mode === "long_running" && !this.stopped) {
          log(`the process died (${(err as Error).message}): starting it again`);
          await new Promise((resolve) => setTimeout(resolve, RESTART_DELAY_MS));
          await this.startProcess(registration, dir).catch((e: Error) => log(`restart failed: ${e.message}`));
        }
      } finally {
        clearInterval(beat);
      }
      const ending = answer.error === undefined ? { path: "complete", body: { worker_id: workerId, result: answer.result ?? null } } : { path: "fail", body: { worker_id: workerId, error: answer.error, retryable: answer.retryable !== false } };
      await client.request("POST", `/worker/tasks/${task.id}/${ending.path}`, ending.body).catch((err: Error) => log(`task ${task?.id}: ${err.message}`));
    }
  }

  /** One task to the long-running process: a JSON line in, the line with its id out. */
  private async ask(task: Claimed): Promise<Answer> {
    const child = this.process as ChildProcessWithoutNullStreams;
    if (child.exitCode !== null || child.signalCode !== null) throw new Error("the process is not running");
    child.stdin.write(`${JSON.stringify({ id: task.id, data: task.data })}\n`);
    for (;;) {
      const next = await (this.lines as AsyncIterator<string>).next();
      if (next.done) throw new Error(`the process exited (${child.exitCode ?? child.signalCode}) while task ${task.id} ran`);
      const answer = parseAnswer(next.value);
      if (answer && (answer.id === undefined || answer.id === task.id)) return answer;
      this.options.log(`[${this.options.queue}] ${next.value}`);
    }
  }

  /** Stops taking tasks, lets the task in hand finish, and ends the process. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.stopping.abort();
    await this.loop?.catch(() => undefined);
    this.process?.kill("SIGTERM");
  }
}

function isReady(line: string): boolean {
  if (line.trim().toUpperCase() === "READY") return true;
  return (parseAnswer(line) as { ready?: unknown } | undefined)?.ready === true;
}

function parseAnswer(line: string): Answer | undefined {
  try {
    const value = JSON.parse(line) as unknown;
    return value && typeof value === "object" && !Array.isArray(value) ? (value as Answer) : undefined;
  } catch {
    return undefined;
  }
}

/** `one_shot`: the command runs once per task, the task as a JSON line on stdin; its last JSON line is the answer. */
function runOnce(registration: Registration, dir: string, task: Claimed): Promise<Answer> {
  const deployment = registration.deployment as NonNullable<Registration["deployment"]>;
  return new Promise((resolve, reject) => {
    const child = spawn("sh", ["-c", deployment.startup_cmd], { cwd: dir, stdio: ["pipe", "pipe", "pipe"], timeout: task.timeout_ms });
    let out = "";
    let err = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => {
      const answer = out.trim().split("\n").reverse().map(parseAnswer).find(Boolean);
      if (code === 0 && answer) resolve(answer);
      else resolve({ error: `${deployment.startup_cmd} exited ${code}${err ? `: ${err.trim().slice(-500)}` : ""}` });
    });
    child.stdin.end(`${JSON.stringify({ id: task.id, data: task.data })}\n`);
  });
}

import { readFileSync } from "node:fs";
import { CLIENT_HELP, GatewayClient, GatewayError, parseClientArgs, table } from "./client.js";

export const QUEUE_HELP = `queues and tasks:
  flotilla queues list | show NAME | pause NAME | unpause NAME
  flotilla queues watch NAME               a live line until the queue has nothing left to run
  flotilla tasks add QUEUE --data JSON [--timeout S] [--wait]
  flotilla tasks add QUEUE --file F [--timeout S]   one task per line of F (JSON; - reads stdin)
  flotilla tasks list QUEUE [--state S] [--limit N] [--offset N]
  flotilla tasks show ID | cancel ID | delete QUEUE ID
  flotilla configs list | reload
  flotilla workers list | show ID         queue workers that registered
${CLIENT_HELP}
`;

interface Task {
  id: string;
  queue: string;
  state: string;
  attempts: number;
  result: unknown;
  error: string | null;
  created_at: string;
}
interface QueueInfo {
  name: string;
  priority: number;
  consumer: string;
  paused: boolean;
  size: number;
  counts: Record<string, number>;
  throughput_per_minute: number;
  latency_ms: number;
}

const ENDED = new Set(["completed", "failed", "cancelled", "archived"]);
/** Tasks per POST /queue/bulk (its limit). */
const BULK_CHUNK = 1000;
const POLL_MS = 200;

const queueRow = (q: QueueInfo) => [q.name, String(q.priority), q.consumer, q.paused ? "paused" : "running", String(q.size), String(q.counts.active ?? 0), String(q.counts.completed ?? 0), String((q.counts.failed ?? 0) + (q.counts.archived ?? 0)), `${q.throughput_per_minute}/min`, `${(q.latency_ms / 1000).toFixed(1)} s`];
const QUEUE_HEAD = ["QUEUE", "PRIORITY", "CONSUMER", "STATE", "WAITING", "ACTIVE", "DONE", "FAILED", "THROUGHPUT", "LATENCY"];
const taskRow = (t: Task) => [t.id, t.queue, t.state, String(t.attempts), t.created_at, t.error ?? ""];
const TASK_HEAD = ["TASK", "QUEUE", "STATE", "ATTEMPTS", "CREATED", "ERROR"];

/** Follows a task until it ends: one line that changes in place on a terminal, a line per change elsewhere. */
async function follow(client: GatewayClient, id: string, json: boolean): Promise<Task> {
  const tty = process.stdout.isTTY && !json;
  const started = Date.now();
  let shown = "";
  for (;;) {
    const task = await client.request<Task>("GET", `/api/cli/tasks/${id}`);
    const status = `${task.id}: ${task.state}${task.attempts > 0 ? ` (attempt ${task.attempts})` : ""}`;
    const line = `${status}, ${((Date.now() - started) / 1000).toFixed(1)} s`;
    if (tty) process.stdout.write(`\r${line}\x1b[K`);
    else if (!json && status !== shown) process.stdout.write(`${line}\n`);
    shown = status;
    if (ENDED.has(task.state)) {
      if (tty) process.stdout.write("\n");
      return task;
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

const WATCH_MS = 500;

/** One line for a queue as it drains: what waits, runs, is done or failed, and how fast. */
function drainLine(q: QueueInfo): string {
  const failed = (q.counts.failed ?? 0) + (q.counts.archived ?? 0);
  return `${q.name}: ${q.size} to run (${q.counts.active ?? 0} active), ${q.counts.completed ?? 0} done, ${failed} failed, ${q.throughput_per_minute}/min${q.paused ? ", paused" : ""}`;
}

/** Follows a queue until nothing is left to run: one line changing in place on a terminal, a line per change elsewhere, JSON lines with --json. */
async function watchQueue(client: GatewayClient, name: string, json: boolean): Promise<void> {
  const tty = process.stdout.isTTY && !json;
  let shown = "";
  for (;;) {
    const q = await client.request<QueueInfo>("GET", `/api/cli/queues/${encodeURIComponent(name)}`);
    const line = drainLine(q);
    if (line !== shown) {
      if (json) process.stdout.write(`${JSON.stringify(q)}\n`);
      else process.stdout.write(tty ? `\r${line}\x1b[K` : `${line}\n`);
      shown = line;
    }
    if (q.size === 0) {
      if (tty) process.stdout.write("\n");
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, WATCH_MS));
  }
}

/** Each non-empty line of `text` as JSON, or the first line that is not, as "file:line: why". */
function jsonLines(text: string, file: string): unknown[] | string {
  const items: unknown[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] as string).trim();
    if (!line) continue;
    try {
      items.push(JSON.parse(line));
    } catch (err) {
      return `${file}:${i + 1}: not JSON: ${(err as Error).message}`;
    }
  }
  return items;
}

/** Queues every item, a chunk at a time, with a progress line (on stderr, so that --json output stays clean). */
async function addMany(client: GatewayClient, queue: string, items: unknown[], timeout: number | undefined): Promise<Array<{ id: string; state: string }>> {
  const queued: Array<{ id: string; state: string }> = [];
  const tty = process.stderr.isTTY;
  for (let i = 0; i < items.length; i += BULK_CHUNK) {
    const tasks = items.slice(i, i + BULK_CHUNK).map((data) => ({ data, ...(timeout ? { timeout } : {}) }));
    const answer = await client.request<{ tasks: Array<{ id: string; state: string }> }>("POST", "/queue/bulk", { queue, tasks });
    queued.push(...answer.tasks.map(({ id, state }) => ({ id, state })));
    const line = `queued ${queued.length}/${items.length}`;
    process.stderr.write(tty ? `\r${line}\x1b[K` : `${line}\n`);
  }
  if (tty) process.stderr.write("\n");
  return queued;
}

/** `flotilla queues|tasks|configs …`: seed 001's CLI against a running gateway. */
export async function queueCommands(group: "queues" | "tasks" | "configs" | "workers", argv: string[]): Promise<number> {
  let parsed: ReturnType<typeof parseClientArgs<{ data: { type: "string" }; file: { type: "string" }; timeout: { type: "string" }; wait: { type: "boolean" }; state: { type: "string" }; limit: { type: "string" }; offset: { type: "string" } }>>;
  try {
    parsed = parseClientArgs(argv, { data: { type: "string" }, file: { type: "string" }, timeout: { type: "string" }, wait: { type: "boolean" }, state: { type: "string" }, limit: { type: "string" }, offset: { type: "string" } });
  } catch (err) {
    process.stderr.write(`flotilla ${group}: ${(err as Error).message}\n\n${QUEUE_HELP}`);
    return 2;
  }
  const { values, positionals } = parsed;
  const [verb, a, b] = positionals;
  const client = GatewayClient.from(values, process.env);
  const json = Boolean(values.json);
  const out = (value: unknown, text: () => string) => process.stdout.write(json ? `${JSON.stringify(value)}\n` : text());
  const usage = (why: string) => {
    process.stderr.write(`flotilla ${group} ${verb ?? ""}: ${why}\n\n${QUEUE_HELP}`);
    return 2;
  };
  try {
    switch (`${group} ${verb ?? ""}`) {
      case "queues list": {
        const { queues } = await client.request<{ queues: QueueInfo[] }>("GET", "/api/cli/queues");
        out(queues, () => table([QUEUE_HEAD, ...queues.map(queueRow)]));
        return 0;
      }
      case "queues watch": {
        if (!a) return usage("which queue?");
        await watchQueue(client, a, json);
        return 0;
      }
      case "queues show":
      case "queues pause":
      case "queues unpause": {
        if (!a) return usage("which queue?");
        const q = await client.request<QueueInfo>(verb === "show" ? "GET" : "POST", `/api/cli/queues/${encodeURIComponent(a)}${verb === "show" ? "" : `/${verb}`}`);
        out(q, () => table([QUEUE_HEAD, queueRow(q)]) + Object.entries(q.counts).map(([state, n]) => `  ${state}: ${n}`).join("\n") + "\n");
        return 0;
      }
      case "tasks add": {
        const timeout = values.timeout === undefined ? undefined : Number(values.timeout);
        if (a && values.file !== undefined) {
          if (values.data !== undefined || values.wait) return usage("--file queues many tasks: give it without --data and --wait");
          let text: string;
          try {
            text = readFileSync(values.file === "-" ? 0 : values.file, "utf8");
          } catch (err) {
            return usage(`cannot read ${values.file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
          }
          const items = jsonLines(text, values.file);
          if (typeof items === "string") return usage(items);
          if (items.length === 0) return usage(`${values.file} holds no tasks`);
          const queued = await addMany(client, a, items, timeout);
          out(queued, () => `${queued.length} tasks queued in ${a}\n`);
          return 0;
        }
        if (!a || values.data === undefined) return usage("give a queue and --data JSON, or --file F");
        let data: unknown;
        try {
          data = JSON.parse(values.data);
        } catch (err) {
          return usage(`--data is not JSON: ${(err as Error).message}`);
        }
        const { info } = await client.request<{ info: { id: string; state: string } }>("POST", "/api/cli/tasks", { queue: a, data, ...(timeout ? { timeout } : {}) });
        if (!values.wait) {
          out(info, () => `${info.id} ${info.state}\n`);
          return 0;
        }
        const task = await follow(client, info.id, json);
        out(task, () => (task.state === "completed" ? `${JSON.stringify(task.result, null, 2)}\n` : `${task.state}: ${task.error ?? ""}\n`));
        return task.state === "completed" ? 0 : 1;
      }
      case "tasks list": {
        if (!a) return usage("which queue?");
        const query = new URLSearchParams();
        if (values.state) query.set("state", values.state);
        if (values.limit) query.set("limit", values.limit);
        if (values.offset) query.set("offset", values.offset);
        const { tasks } = await client.request<{ tasks: Task[] }>("GET", `/api/cli/queues/${encodeURIComponent(a)}/tasks?${query}`);
        out(tasks, () => table([TASK_HEAD, ...tasks.map(taskRow)]));
        return 0;
      }
      case "tasks show":
      case "tasks cancel": {
        if (!a) return usage("which task?");
        const task = await client.request<Task>(verb === "show" ? "GET" : "DELETE", `/api/cli/tasks/${encodeURIComponent(a)}`);
        out(task, () => `${JSON.stringify(task, null, 2)}\n`);
        return 0;
      }
      case "tasks delete": {
        if (!a || !b) return usage("give the queue and the task");
        await client.request("DELETE", `/api/cli/queues/${encodeURIComponent(a)}/tasks/${encodeURIComponent(b)}`);
        out({ deleted: b }, () => `deleted ${b}\n`);
        return 0;
      }
      case "configs list":
      case "configs reload": {
        const { configs } = await client.request<{ configs: Array<{ spec: { name: string; priority: number; consumer: string }; source: string }> }>(verb === "list" ? "GET" : "POST", `/api/cli/configs${verb === "list" ? "" : "/reload"}`);
        out(configs, () => table([["QUEUE", "PRIORITY", "CONSUMER", "SOURCE"], ...configs.map((c) => [c.spec.name, String(c.spec.priority), c.spec.consumer, c.source])]));
        return 0;
      }
      case "workers list":
      case "workers show": {
        if (verb === "show" && !a) return usage("which worker?");
        type Worker = { worker_id: string; queue: string; status: string; last_seen: string; current_task: string | null; completed: number; failed: number };
        const list = verb === "list" ? (await client.request<{ workers: Worker[] }>("GET", "/api/cli/workers")).workers : [await client.request<Worker>("GET", `/api/cli/workers/${encodeURIComponent(a)}`)];
        out(verb === "list" ? list : list[0], () =>
          table([["WORKER", "QUEUE", "STATUS", "TASK", "DONE", "FAILED", "LAST SEEN"], ...list.map((w) => [w.worker_id, w.queue, w.status, w.current_task ?? "", String(w.completed), String(w.failed), w.last_seen])]),
        );
        return 0;
      }
      default:
        return usage("unknown command");
    }
  } catch (err) {
    if (!(err instanceof GatewayError)) throw err;
    process.stderr.write(`flotilla ${group}: ${err.message}\n`);
    return 1;
  }
}

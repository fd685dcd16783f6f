import assert from "node:assert/strict";
import { createServer } from "node:http";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { SimServer } from "../sim/index.js";
import { simulators, startFlotilla, taskStores, waitFor, type Flotilla } from "./harness.js";

interface Task {
  id: string;
  queue: string;
  state: string;
  result: unknown;
  error: string | null;
  attempts: number;
  finished_at: string | null;
}

const sims = simulators();
let dataDir: string;
let gw: Flotilla;
let fast: SimServer;
let slow: SimServer;
let webhookCalls: Array<{ event: string; task: Task }> = [];
let webhookUrl: string;
const webhook = createServer((req, res) => {
  let body = "";
  req.on("data", (d: Buffer) => (body += d.toString()));
  req.on("end", () => {
    webhookCalls.push(JSON.parse(body) as { event: string; task: Task });
    res.end();
  });
});

const QUEUES = `
queues:
  - { name: batch, priority: 5, concurrency: 2 }
  - { name: low, priority: 1 }
  - { name: high, priority: 9 }
  - { name: flaky, retries: 1, backoff_ms: 50 }
  - { name: once, retries: 0, dead_letter: false }
  - { name: slow, timeout_secs: 1, retries: 0 }
task_runner:
  max_running: 4
  poll_ms: 50
  lease_grace_ms: 300
outbound:
  allow: ["127.0.0.1"]
`;

const chatData = (model = "m", content = "hi") => ({ api: "openai", model, messages: [{ role: "user", content }] });

async function add(queue: string, data: unknown, extra: Record<string, unknown> = {}): Promise<string> {
  const res = await gw.admin("/queue/add", { method: "POST", body: JSON.stringify({ queue, data, ...extra }) });
  const text = await res.text();
  assert.equal(res.status, 200, text);
  return (JSON.parse(text) as { info: { id: string } }).info.id;
}

async function task(id: string, queue?: string): Promise<Task> {
  const res = await gw.admin(queue ? `/queue/${id}/${queue}` : `/api/cli/tasks/${id}`);
  const body = (await res.json()) as { info?: Task } & Task;
  return body.info ?? body;
}

const ended = (id: string, ms = 10_000) => waitFor(`task ${id} to end`, async () => {
  const t = await task(id);
  return ["completed", "failed", "cancelled", "archived"].includes(t.state) && t;
}, ms);

for (const store of await taskStores()) {
  describe(`the job queue: tasks run by the gateway on the fleet (seed 001) [${store.name}]`, { skip: store.skip }, () => {
    before(async () => {
      dataDir = mkdtempSync(join(tmpdir(), "flotilla-queue-"));
      webhookCalls = [];
      await new Promise<void>((resolve) => webhook.listen(0, "127.0.0.1", resolve));
      webhookUrl = `http://127.0.0.1:${(webhook.address() as { port: number }).port}/hook`;
      fast = await sims.start({ kind: "ollama", models: ["m:latest", "flaky:latest"], loaded: ["m:latest"] });
      slow = await sims.start({ kind: "ollama", models: ["slow:latest"], latencyMs: 1500 });
      gw = await startFlotilla({ dataDir, servers: [`${fast.url},ollama`, `${slow.url},ollama`], yaml: QUEUES, env: store.env });
    });
    after(async () => {
      await gw.stop();
      await sims.closeAll();
      webhook.close();
      rmSync(dataDir, { recursive: true, force: true });
      await store.cleanup();
    });

    test("a task is queued, run on the fleet at batch priority and its result kept; the webhook hears of it", async () => {
      const id = await add("batch", chatData(), { webhook_url: webhookUrl });
      const done = await ended(id);
      assert.equal(done.state, "completed");
      assert.equal((done.result as { choices: Array<{ message: { content: string } }> }).choices[0].message.content, "The quick brown fox jumps over lazy dogs.");
      const viaSeed = await task(id, "batch");
      assert.equal(viaSeed.state, "completed");
      const sent = fast.requests.find((r) => r.path === "/api/chat" && r.headers["x-request-id"] === id);
      assert.ok(sent, "the request reached the server under the task's id");
      const ollama = await ended(await add("batch", { api: "ollama", model: "m", prompt: "hello" }));
      assert.equal((ollama.result as { response: string }).response, "The quick brown fox jumps over lazy dogs.");
      await waitFor("webhook", () => webhookCalls.some((c) => c.task.id === id));
      assert.deepEqual(webhookCalls.find((c) => c.task.id === id)?.event, "task.completed");
      assert.equal((await gw.admin(`/queue/${id}/other`)).status, 404, "the queue must match");
      const unknown = await gw.admin("/queue/add", { method: "POST", body: JSON.stringify({ queue: "nope", data: {} }) });
      assert.equal(unknown.status, 404);
    });

    test("a failing attempt is retried with backoff, then dead-lettered; bad input fails at once; a timeout counts as a failure", async () => {
      fast.fail({ path: "/api/chat", status: 500, times: 2 });
      const flaky = await ended(await add("flaky", chatData("flaky")));
      assert.deepEqual([flaky.state, flaky.attempts], ["archived", 2]);
      assert.match(flaky.error ?? "", /500/);
      const bad = await ended(await add("flaky", { api: "openai", model: "m" }));
      assert.deepEqual([bad.state, bad.attempts], ["failed", 1], "no retry helps a request without messages");
      fast.fail({ path: "/api/chat", status: 500, times: 1 });
      const once = await ended(await add("once", chatData()));
      assert.deepEqual([once.state, once.attempts], ["failed", 1], "without a dead letter, out of attempts is failed");
      const abortedBefore = slow.aborted;
      const timedOut = await ended(await add("slow", chatData("slow")));
      assert.equal(timedOut.state, "archived");
      assert.match(timedOut.error ?? "", /timed out after 1 s/, JSON.stringify(timedOut));
      await waitFor("the server's work stopped with the attempt", () => slow.aborted > abortedBefore, 3000);
    });

    test("a paused queue hands out nothing; cancelling stops a waiting task at once and a running one soon", async () => {
      assert.equal((await gw.admin("/api/cli/queues/batch/pause", { method: "POST" })).status, 200);
      const waiting = await add("batch", chatData());
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.equal((await task(waiting)).state, "pending");
      const queue = (await (await gw.admin("/api/cli/queues/batch")).json()) as { paused: boolean; counts: Record<string, number>; latency_ms: number };
      assert.equal(queue.paused, true);
      assert.ok(queue.counts.pending >= 1 && queue.latency_ms >= 250, "latency is the oldest ready task's age");
      const cancelled = (await (await gw.admin(`/api/cli/tasks/${waiting}`, { method: "DELETE" })).json()) as Task;
      assert.equal(cancelled.state, "cancelled");
      await gw.admin("/api/cli/queues/batch/unpause", { method: "POST" });

      const running = await add("batch", chatData("slow"));
      await waitFor("running", async () => (await task(running)).state === "active");
      const abortedBefore = slow.aborted;
      await gw.admin(`/api/cli/tasks/${running}`, { method: "DELETE" });
      assert.equal((await ended(running)).state, "cancelled");
      await waitFor("the server's work stopped with the cancel", () => slow.aborted > abortedBefore, 3000);
      assert.equal((await gw.admin(`/api/cli/queues/batch/tasks/${running}`, { method: "DELETE" })).status, 204);
      assert.equal((await gw.admin(`/api/cli/tasks/${running}`)).status, 404);
    });

    test("a higher-priority queue's tasks run before a lower one's when they compete", async () => {
      // Four slow tasks take every place the runner has (task_runner.max_running: 4) ...
      const blockers = await Promise.all([1, 2, 3, 4].map(() => add("once", chatData("slow"))));
      await waitFor("the runner full", async () => (await Promise.all(blockers.map((id) => task(id)))).every((t) => t.state === "active"));
      // ... while the low queue's tasks, then the high queue's, wait for one.
      const low = [await add("low", chatData()), await add("low", chatData()), await add("low", chatData())];
      const high = [await add("high", chatData()), await add("high", chatData()), await add("high", chatData())];
      const done = await Promise.all([...low, ...high].map((id) => ended(id)));
      const started = (await Promise.all(done.map((t) => gw.admin(`/api/cli/tasks/${t.id}`).then((r) => r.json() as Promise<{ id: string; started_at: string }>))));
      const order = started.sort((a, b) => a.started_at.localeCompare(b.started_at)).map((t) => (high.includes(t.id) ? "high" : "low"));
      assert.deepEqual(order.slice(0, 3), ["high", "high", "high"], `started in order: ${order.join(" ")}`);
    });

    test("queues list their counts, throughput and tasks by state, page by page", async () => {
      const { queues } = (await (await gw.admin("/api/cli/queues")).json()) as { queues: Array<{ name: string; counts: Record<string, number>; throughput_per_minute: number; source: string }> };
      const batch = queues.find((q) => q.name === "batch");
      assert.ok(batch && batch.counts.completed >= 2 && batch.throughput_per_minute >= 2);
      assert.equal(batch?.source, "config");
      const page = (await (await gw.admin("/api/cli/queues/batch/tasks?state=completed&limit=1&offset=1")).json()) as { tasks: Task[]; limit: number; offset: number };
      assert.deepEqual([page.tasks.length, page.tasks[0].state, page.limit, page.offset], [1, "completed", 1, 1]);
      assert.equal((await gw.admin("/api/cli/queues/batch/tasks?state=bogus")).status, 400);
    });

    test("queue files are created, reloaded and deleted at run time; a broken file names its line and changes nothing", async () => {
      const made = await gw.admin("/api/cli/configs", { method: "POST", body: JSON.stringify({ name: "made", priority: 3 }) });
      assert.equal(made.status, 201);
      const dir = join(dataDir, "queues");
      assert.deepEqual(readdirSync(dir), ["made.yaml"]);
      assert.ok((await ended(await add("made", chatData()))).state === "completed");
      writeFileSync(join(dir, "broken.yaml"), "name: broken\npriority: [1,\n");
      const reload = await gw.admin("/api/cli/configs/reload", { method: "POST" });
      assert.equal(reload.status, 400);
      assert.match(((await reload.json()) as { error: string }).error, /broken\.yaml:3:1: /);
      const { configs } = (await (await gw.admin("/api/cli/configs")).json()) as { configs: Array<{ spec: { name: string } }> };
      assert.ok(configs.some((c) => c.spec.name === "made"), "the old configuration stays");
      rmSync(join(dir, "broken.yaml"));
      assert.equal((await gw.admin("/api/cli/configs/made", { method: "DELETE" })).status, 204);
      assert.equal((await gw.admin("/api/cli/configs/batch", { method: "DELETE" })).status, 409, "queues of the config file stay there");
      assert.equal((await gw.admin("/api/cli/configs", { method: "POST", body: JSON.stringify({ name: "bad name!" }) })).status, 400);
    });
  });

  describe(`no task is lost when the gateway is killed [${store.name}]`, { skip: store.skip }, () => {
    after(async () => {
      await sims.closeAll();
      await store.cleanup();
    });

    test("tasks queued and running when the gateway gets SIGKILL all complete after it restarts", async () => {
      const sim = await sims.start({ kind: "ollama", models: ["m:latest"], loaded: ["m:latest"], latencyMs: 150 });
      const dir = mkdtempSync(join(tmpdir(), "flotilla-kill-"));
      const options = { dataDir: dir, servers: [`${sim.url},ollama`], yaml: "queues:\n  - { name: q, concurrency: 2, timeout_secs: 2, retries: 5 }\ntask_runner:\n  poll_ms: 50\n  lease_grace_ms: 200\n", env: store.env };
      let first = await startFlotilla(options);
      const ids: string[] = [];
      for (let i = 0; i < 12; i++) {
        const res = await first.admin("/queue/add", { method: "POST", body: JSON.stringify({ queue: "q", data: chatData("m", `question ${i}`) }) });
        ids.push(((await res.json()) as { info: { id: string } }).info.id);
      }
      await waitFor("some done, some running", async () => {
        const q = (await (await first.admin("/api/cli/queues/q")).json()) as { counts: Record<string, number> };
        return q.counts.completed >= 2 && q.counts.active >= 1;
      });
      first.proc.kill("SIGKILL");
      await new Promise((resolve) => first.proc.once("exit", resolve));
      first = await startFlotilla(options);
      try {
        const states = await waitFor("every task done", async () => {
          const all = await Promise.all(ids.map((id) => first.admin(`/api/cli/tasks/${id}`).then((r) => r.json() as Promise<Task>)));
          return all.every((t) => t.state === "completed") && all;
        }, 20_000);
        assert.equal(new Set(states.map((t) => t.id)).size, 12, "every id in is an id out");
      } finally {
        await first.stop();
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
}

for (const store of (await taskStores()).filter((s) => s.name !== "sqlite")) {
  describe(`two gateways on one Redis share the queue: every task runs once, on either [${store.name}]`, { skip: store.skip }, () => {
    after(() => sims.closeAll());

    test("tasks queued on one replica are run by both, none twice, and each replica sees every result", async () => {
      const sim = await sims.start({ kind: "ollama", models: ["m:latest"], loaded: ["m:latest"], latencyMs: 100 });
      const yaml = "queues:\n  - { name: shared, concurrency: 2 }\ntask_runner:\n  poll_ms: 50\n  max_running: 2\n";
      // Replicas share their database as well as Redis (the keys tasks run as are there): one data dir, one after the other.
      const a = await startFlotilla({ servers: [`${sim.url},ollama`], yaml, env: store.env });
      const b = await startFlotilla({ servers: [`${sim.url},ollama`], yaml, env: store.env, dataDir: a.dataDir });
      try {
        const res = await a.admin("/queue/bulk", { method: "POST", body: JSON.stringify({ queue: "shared", tasks: Array.from({ length: 20 }, (_, i) => ({ data: chatData("m", `q${i}`) })) }) });
        const ids = ((await res.json()) as { tasks: Array<{ id: string }> }).tasks.map((t) => t.id);
        const seenByB = await waitFor("every task done, as the other replica sees it", async () => {
          const all = await Promise.all(ids.map((id) => b.admin(`/api/cli/tasks/${id}`).then((r) => r.json() as Promise<Task>)));
          return all.every((t) => t.state === "completed") && all;
        }, 20_000);
        assert.deepEqual(seenByB.map((t) => t.attempts), ids.map(() => 1), "no task was taken twice");
        const runs = sim.requests.filter((r) => r.path === "/api/chat").map((r) => r.headers["x-request-id"] as string);
        assert.deepEqual([...runs].sort(), [...ids].sort(), "each task reached the server exactly once");
        const byReplica = (gw: Flotilla) => gw.admin("/api/cli/queues/shared").then((r) => r.json() as Promise<{ counts: Record<string, number> }>);
        assert.deepEqual([(await byReplica(a)).counts.completed, (await byReplica(b)).counts.completed], [20, 20], "one queue, the same counts from either");
        // Each replica counts the requests it answered itself: both took a share.
        const answered = async (gw: Flotilla) => {
          const text = await (await gw.admin("/metrics")).text();
          return [...text.matchAll(/^flotilla_requests_total\{[^}]*\} (\d+)/gm)].reduce((sum, m) => sum + Number(m[1]), 0);
        };
        const [byA, byB] = [await answered(a), await answered(b)];
        assert.ok(byA > 0 && byB > 0 && byA + byB === 20, `both replicas ran tasks: ${byA} and ${byB}`);
      } finally {
        await b.stop();
        await a.stop();
        await store.cleanup();
      }
    });
  });
}

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { startFlotilla, taskStores, waitFor, type Flotilla } from "./harness.js";

let gw: Flotilla;

const QUEUES = `
queues:
  - { name: inline }
  - name: jobs
    consumer: workers
    mode: long_running
    timeout_secs: 1
    retries: 2
    backoff_ms: 0
    deployment: { git_url: "file:///srv/repo.git", startup_cmd: "node worker.js" }
task_runner:
  poll_ms: 50
  lease_grace_ms: 200
`;

async function call(path: string, body: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await gw.admin(path, { method: "POST", body: JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

async function add(data: unknown): Promise<string> {
  return ((await call("/queue/add", { queue: "jobs", data })).body.info as { id: string }).id;
}

const claim = async (worker: string, wait_ms = 0) => {
  const res = await call("/worker/tasks/claim", { worker_id: worker, queue: "jobs", wait_ms });
  return res.status === 204 ? undefined : (res.body.task as { id: string; data: unknown; attempts: number; timeout_ms: number });
};
const state = async (id: string) => ((await (await gw.admin(`/queue/${id}/jobs`)).json()) as { info: { state: string; result: unknown; attempts: number; error: string | null } }).info;

for (const store of await taskStores()) {
  describe(`queue workers over the gateway's API: register, claim, heartbeat, complete, fail (seed 001) [${store.name}]`, { skip: store.skip }, () => {
    before(async () => {
      gw = await startFlotilla({ yaml: QUEUES, env: { ...store.env, FLOTILLA_QUEUE_WORKERS__SHARE_REDIS: "true" } });
    });
    after(async () => {
      await gw.stop();
      await store.cleanup();
    });

    test("a worker registers for a workers queue and gets its configuration and deployment", async () => {
      const registered = await call("/worker/register", { worker_id: "w1", queue: "jobs" });
      assert.equal(registered.status, 200);
      assert.deepEqual(registered.body.queue, { name: "jobs", priority: 5, mode: "long_running" });
      assert.deepEqual(registered.body.deployment, { git_url: "file:///srv/repo.git", branch: "main", startup_cmd: "node worker.js", startup_timeout_secs: 300 });
      const redis = registered.body.redis as { addr: string; key_prefix: string } | null;
      if (store.name === "sqlite") assert.equal(redis, null, "tasks in the database: no Redis to hand out");
      else {
        const keyPrefix = store.name === "bullmq" ? `${store.env.FLOTILLA_REDIS_PREFIX}bull` : `${store.env.FLOTILLA_REDIS_PREFIX}tasks:`;
        assert.deepEqual([redis?.addr, redis?.key_prefix], [new URL(store.env.REDIS_URL).host, keyPrefix], "allowed, and tasks in Redis");
      }
      assert.equal((await call("/worker/register", { worker_id: "w1", queue: "inline" })).status, 409, "the gateway runs that queue itself");
      assert.equal((await call("/worker/register", { worker_id: "w1", queue: "nope" })).status, 404);
      assert.equal((await call("/worker/tasks/claim", { worker_id: "stranger", queue: "jobs" })).status, 404, "register first");
      await call("/worker/register", { worker_id: "w2", queue: "jobs" });
    });

    test("a claimed task is the worker's until it hands in the result; waiting claims wake when a task comes", async () => {
      const started = Date.now();
      assert.equal(await claim("w1", 200), undefined);
      assert.ok(Date.now() - started >= 190, "an empty claim waits its wait_ms");

      const waiting = claim("w1", 3000);
      await new Promise((resolve) => setTimeout(resolve, 200));
      const id = await add({ n: 1 });
      const task = await waiting;
      assert.deepEqual([task?.id, task?.data, task?.attempts, task?.timeout_ms], [id, { n: 1 }, 1, 1000]);
      assert.ok(Date.now() - started < 2500, "woken by the task, not by the wait's end");
      assert.equal(await claim("w2"), undefined, "no one else gets it");
      assert.deepEqual((await call(`/worker/tasks/${id}/heartbeat`, { worker_id: "w1" })).body, { cancel: false });
      assert.equal((await call(`/worker/tasks/${id}/complete`, { worker_id: "w2", result: 1 })).status, 409, "only its holder hands it in");
      assert.equal((await call(`/worker/tasks/${id}/complete`, { worker_id: "w1", result: { answer: 42 } })).status, 200);
      assert.deepEqual([(await state(id)).state, (await state(id)).result], ["completed", { answer: 42 }]);
      const { workers } = (await (await gw.admin("/api/cli/workers")).json()) as { workers: Array<{ worker_id: string; status: string; completed: number; current_task: string | null }> };
      assert.deepEqual(workers.find((w) => w.worker_id === "w1"), { ...workers.find((w) => w.worker_id === "w1"), status: "online", completed: 1, current_task: null });
      assert.equal((await gw.admin("/api/cli/workers/w2")).status, 200);
      assert.equal((await gw.admin("/api/cli/workers/nobody")).status, 404);
    });

    test("a worker may take several ready tasks in one claim, each leased to it", async () => {
      const ids = [await add({ n: 10 }), await add({ n: 11 }), await add({ n: 12 })];
      const res = await call("/worker/tasks/claim", { worker_id: "w1", queue: "jobs", max_tasks: 2 });
      const taken = (res.body.tasks as Array<{ id: string; data: unknown }>).map((t) => t.id);
      assert.deepEqual(taken, ids.slice(0, 2), "the two oldest, in order");
      assert.equal((res.body.task as { id: string }).id, ids[0], "`task` is the first, as a one-task worker reads it");
      assert.equal((await claim("w2"))?.id, ids[2], "the rest stay for others");
      const handedIn = await call("/worker/tasks/complete", { worker_id: "w1", results: [...taken.map((id) => ({ id, result: id })), { id: ids[2], result: "not mine" }] });
      assert.equal(handedIn.status, 200);
      const answers = handedIn.body.results as Array<{ id: string; state?: string; error?: string }>;
      assert.deepEqual(answers.slice(0, 2), taken.map((id) => ({ id, state: "completed" })), "both results in one call");
      assert.match(answers[2]?.error ?? "", /does not hold/, "a task it does not hold is refused, alone");
      assert.deepEqual(await Promise.all(taken.map(async (id) => (await state(id)).result)), taken);
      assert.equal((await state(ids[2])).state, "active", "still w2's");
      assert.equal((await call(`/worker/tasks/${ids[2]}/complete`, { worker_id: "w2", result: null })).status, 200);
      assert.equal((await call("/worker/tasks/claim", { worker_id: "w1", queue: "jobs", max_tasks: 101 })).status, 400);
    });

    test("a worker that dies loses its task to another once the lease runs out; its late answer is refused", async () => {
      const id = await add({ n: 2 });
      assert.equal((await claim("w1"))?.id, id);
      // w1 goes silent: no heartbeat. After the timeout and the grace the task is free again.
      const retaken = await waitFor("the task retried", async () => claim("w2"), 5000);
      assert.deepEqual([retaken.id, retaken.attempts], [id, 2]);
      assert.match((await state(id)).error ?? "", /lease expired/);
      assert.equal((await call(`/worker/tasks/${id}/complete`, { worker_id: "w1", result: "late" })).status, 409);
      assert.equal((await call(`/worker/tasks/${id}/complete`, { worker_id: "w2", result: "done" })).status, 200);
      assert.equal((await state(id)).result, "done");
    });

    test("failures are retried, or not when the worker says so; a cancel reaches the worker through its heartbeat", async () => {
      const id = await add({ n: 3 });
      await claim("w1");
      assert.deepEqual((await call(`/worker/tasks/${id}/fail`, { worker_id: "w1", error: "flaky" })).body, { state: "retry" });
      assert.equal((await claim("w1"))?.id, id);
      assert.deepEqual((await call(`/worker/tasks/${id}/fail`, { worker_id: "w1", error: "bad input", retryable: false })).body, { state: "failed" });
      assert.deepEqual([(await state(id)).state, (await state(id)).error], ["failed", "bad input"]);

      const doomed = await add({ n: 4 });
      await claim("w2");
      await gw.admin(`/api/cli/tasks/${doomed}`, { method: "DELETE" });
      assert.deepEqual((await call(`/worker/tasks/${doomed}/heartbeat`, { worker_id: "w2" })).body, { cancel: true });
      assert.equal((await state(doomed)).state, "cancelled");
      assert.equal((await call(`/worker/tasks/${doomed}/complete`, { worker_id: "w2", result: 1 })).status, 409);
    });
  });
}

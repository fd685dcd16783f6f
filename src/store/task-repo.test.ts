import assert from "node:assert/strict";
import type { TaskRow } from "./index.js";
import { forEachTaskBackend } from "./test-backends.js";

// The queue's task backends: one contract on SQLite, PostgreSQL, Redis and BullMQ, every time counted from T0.

/** A task made at T0, ready at T0. */
const taskAt = (T0: number) => (id: string, overrides: Partial<TaskRow> = {}): TaskRow => ({
    id,
    queue: "q",
    state: "pending",
    data: "{}",
    result: null,
    error: null,
    attempts: 0,
    max_attempts: 2,
    dead_letter: 1,
    timeout_ms: 1000,
    run_at: T0,
    lease_owner: null,
    lease_until: null,
    cancel_requested: 0,
    user_id: null,
    key_id: null,
    webhook_url: null,
    created_at: T0,
    updated_at: T0,
    started_at: null,
    finished_at: null,
    ...overrides,
  });

forEachTaskBackend("claims take ready tasks oldest first, never one twice, and not before their time", async (tasks, T0) => {
  const task = taskAt(T0);
  await tasks.insert([task("t2", { created_at: T0 + 2 }), task("t1", { created_at: T0 + 1 }), task("later", { state: "scheduled", run_at: T0 + 1000 }), task("other", { queue: "r" })]);
  const claims = await Promise.all([1, 2, 3].map((i) => tasks.claim("q", `w${i}`, T0 + 10, 500)));
  const got = claims.filter(Boolean).map((t) => t?.id).sort();
  assert.deepEqual(got, ["t1", "t2"], "two ready tasks, two claims won, none twice");
  const first = claims.find((t) => t?.id === "t1") as TaskRow;
  assert.deepEqual([first.state, first.attempts, first.lease_until], ["active", 1, T0 + 10 + 1000 + 500]);
  assert.equal((await tasks.claim("q", "w9", T0 + 1000, 500))?.id, "later", "a scheduled task once its time comes");
});

forEachTaskBackend("several claims at once come in claim order, each leased; fewer when fewer are ready", async (tasks, T0) => {
  const task = taskAt(T0);
  await tasks.insert([task("c", { created_at: T0 + 3 }), task("a", { created_at: T0 + 1 }), task("b", { created_at: T0 + 2 }), task("early", { run_at: T0 - 5, created_at: T0 + 9 })]);
  const first = await tasks.claimUpTo("q", "w1", T0, 100, 3);
  assert.deepEqual(first.map((t) => [t.id, t.state, t.lease_owner, t.lease_until]), [["early", "active", "w1", T0 + 1100], ["a", "active", "w1", T0 + 1100], ["b", "active", "w1", T0 + 1100]]);
  assert.deepEqual((await tasks.claimUpTo("q", "w2", T0, 100, 3)).map((t) => t.id), ["c"]);
  assert.deepEqual(await tasks.claimUpTo("q", "w2", T0, 100, 3), []);
  assert.equal((await tasks.counts("q", T0)).counts.active, 4);
});

forEachTaskBackend("a failed attempt is retried later while attempts remain, then dead-lettered; a lost lease cannot finish", async (tasks, T0) => {
  const task = taskAt(T0);
  await tasks.insert([task("t", { max_attempts: 2 }), task("nodl", { max_attempts: 1, dead_letter: 0, created_at: T0 + 5 })]);
  await tasks.claim("q", "w1", T0, 0);
  assert.equal((await tasks.failAttempt("t", "w1", "boom", T0 + 100, T0 + 1))?.state, "retry");
  assert.equal(await tasks.claim("q", "w1", T0 + 50, 0).then((t) => t?.id), "nodl", "t waits for its backoff");
  assert.equal((await tasks.failAttempt("nodl", "w1", "bad", T0 + 60, T0 + 51))?.state, "failed", "no dead letter: failed");
  const again = await tasks.claim("q", "w2", T0 + 100, 0);
  assert.deepEqual([again?.id, again?.attempts], ["t", 2]);
  assert.equal(await tasks.finish("t", "w1", { state: "completed" }, T0 + 101), undefined, "w1 no longer holds it");
  const archived = await tasks.failAttempt("t", "w2", "boom again", T0 + 200, T0 + 102);
  assert.equal(archived?.state, "archived");
  assert.equal(archived?.error, "boom again", "the row after the attempt");
  const ended = await tasks.get("t");
  assert.deepEqual([ended?.state, ended?.error, ended?.finished_at], ["archived", "boom again", T0 + 102]);
});

forEachTaskBackend("an expired lease counts as a failed attempt; a heartbeat keeps it and hears a cancel", async (tasks, T0) => {
  const task = taskAt(T0);
  await tasks.insert([task("dead"), task("alive", { created_at: T0 + 1 })]);
  await tasks.claim("q", "w1", T0, 0);
  await tasks.claim("q", "w2", T0, 0);
  assert.deepEqual(await tasks.heartbeat("alive", "w2", T0 + 5000, T0 + 500), { held: true, cancelRequested: false });
  assert.equal(await tasks.expireLeases(T0 + 1001), 1);
  assert.equal((await tasks.get("dead"))?.state, "retry");
  assert.match((await tasks.get("dead"))?.error ?? "", /lease expired/);
  assert.equal((await tasks.cancel("alive", T0 + 600))?.state, "active", "an active task is asked to stop");
  assert.deepEqual(await tasks.heartbeat("alive", "w2", T0 + 6000, T0 + 700), { held: true, cancelRequested: true });
  assert.deepEqual(await tasks.finish("alive", "w2", { state: "cancelled" }, T0 + 701).then((t) => [t?.state, t?.finished_at, t?.lease_owner]), ["cancelled", T0 + 701, null]);
  assert.deepEqual(await tasks.heartbeat("alive", "w2", T0 + 6000, T0 + 800), { held: false, cancelRequested: false });
  assert.equal((await tasks.cancel("dead", T0 + 900))?.state, "cancelled", "a waiting task is cancelled at once");
  assert.equal(await tasks.cancel("nope", T0), undefined);
});

forEachTaskBackend("tasks are listed newest first by state, counted per state, with throughput and the oldest ready task", async (tasks, T0) => {
  const task = taskAt(T0);
  await tasks.insert([task("a", { created_at: T0 + 1 }), task("b", { created_at: T0 + 2 }), task("c", { created_at: T0 + 3 }), task("x", { queue: "r" })]);
  const claimed = await tasks.claim("q", "w", T0 + 10, 0);
  await tasks.finish(claimed?.id as string, "w", { state: "completed", result: '{"ok":true}' }, T0 + 20);
  assert.deepEqual((await tasks.list("q", undefined, 10, 0)).map((t) => t.id), ["c", "b", "a"]);
  assert.deepEqual((await tasks.list("q", "pending", 1, 1)).map((t) => t.id), ["b"]);
  const counts = await tasks.counts("q", T0 + 30);
  assert.deepEqual(counts, { counts: { pending: 2, completed: 1 }, completedLastMinute: 1, oldestReadyAt: T0 + 2 });
  assert.equal(await tasks.remove("a"), true);
  assert.equal(await tasks.remove("a"), false);
  await tasks.setPaused("q", true, T0);
  await tasks.setPaused("r", true, T0);
  await tasks.setPaused("r", false, T0 + 1);
  assert.deepEqual([...(await tasks.pausedQueues())], ["q"]);
});

forEachTaskBackend("queue workers register (again), are touched with what they run and finish, and are listed", async (tasks, T0) => {
  await tasks.registerWorker("w1", "q", T0);
  await tasks.touchWorker("w1", T0 + 5, { currentTask: "t1" });
  await tasks.touchWorker("w1", T0 + 9, { currentTask: null, completed: 1 });
  await tasks.touchWorker("w1", T0 + 10, { failed: 1 });
  await tasks.registerWorker("w0", "r", T0);
  assert.deepEqual(await tasks.worker("w1"), { id: "w1", queue: "q", registered_at: T0, last_seen: T0 + 10, current_task: null, completed: 1, failed: 1 });
  await tasks.registerWorker("w1", "q2", T0 + 20);
  const again = await tasks.worker("w1");
  assert.deepEqual([again?.queue, again?.registered_at, again?.completed], ["q2", T0 + 20, 1], "its counts stay");
  assert.deepEqual((await tasks.workers()).map((w) => w.id), ["w1", "w0"], "by queue, then id");
  assert.equal(await tasks.worker("nobody"), undefined);
});

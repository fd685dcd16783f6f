import assert from "node:assert/strict";
import type { ScheduledJobRow } from "../store/index.js";
import { forEachBackend } from "../store/test-backends.js";
import { Scheduler } from "./scheduler.js";

const T0 = Date.parse("2024-01-15T10:00:30Z");
const quiet = { warn: () => undefined };

function job(id: string, cron: string): ScheduledJobRow {
  return {
    id,
    name: id,
    cron,
    timezone: "UTC",
    model: "m",
    node: null,
    duration_ms: 1000,
    action: '{"type":"queue","queue":"q","tasks":[{"data":{}}]}',
    enabled: 1,
    origin: null,
    last_run_at: null,
    last_run_status: null,
    last_run_error: null,
    last_run_result: null,
    created_at: T0,
    updated_at: T0,
  };
}

/** A clock the test moves. */
function clock(start: number) {
  let now = start;
  return { now: () => now, set: (ms: number) => void (now = ms) };
}

forEachBackend("two schedulers on one database fire each run once, and the job shows its last run", async (store, backend) => {
  const other = await backend.open();
  try {
    const time = clock(T0);
    const fired: Array<[string, string, number]> = [];
    const scheduler = (owner: string, repo = store.scheduledJobs) =>
      new Scheduler({ repo, owner, tickMs: 1000, now: time.now, log: quiet, run: async (row, at) => (fired.push([owner, row.id, at]), { tasks: [`task_${owner}`] }) });
    const a = scheduler("a");
    const b = scheduler("b", other.scheduledJobs);
    await store.scheduledJobs.insert(job("j1", "* * * * *"));
    assert.equal(await a.tick(), Date.parse("2024-01-15T10:01:00Z"), "the next run is when to look again");
    await b.tick();
    assert.deepEqual(fired, [], "nothing is due yet");
    time.set(Date.parse("2024-01-15T10:01:00.200Z"));
    await Promise.all([a.tick(), b.tick()]);
    await Promise.all([a.idle(), b.idle()]);
    assert.equal(fired.length, 1);
    assert.deepEqual([fired[0][1], fired[0][2]], ["j1", Date.parse("2024-01-15T10:01:00Z")]);
    const row = await other.scheduledJobs.get("j1");
    assert.deepEqual([row?.last_run_at, row?.last_run_status, row?.last_run_error, row?.last_run_result], [Date.parse("2024-01-15T10:01:00Z"), "succeeded", null, JSON.stringify({ tasks: [`task_${fired[0][0]}`] })]);
    await Promise.all([a.tick(), b.tick()]);
    await Promise.all([a.idle(), b.idle()]);
    assert.equal(fired.length, 1, "a second look at the same time fires nothing more");
    await Promise.all([a.close(), b.close()]);
  } finally {
    await other.close();
  }
});

forEachBackend("runs missed while no scheduler looked are not made up: the latest fires, once; a failure is recorded", async (store) => {
  const time = clock(T0);
  const fired: number[] = [];
  const scheduler = new Scheduler({
    repo: store.scheduledJobs,
    owner: "a",
    tickMs: 1000,
    now: time.now,
    log: quiet,
    run: async (_row, at) => {
      fired.push(at);
      throw new Error("the queue is gone");
    },
  });
  await store.scheduledJobs.insert(job("j1", "* * * * *"));
  await scheduler.tick();
  time.set(Date.parse("2024-01-15T10:05:10Z"));
  await scheduler.tick();
  await scheduler.idle();
  assert.deepEqual(fired, [Date.parse("2024-01-15T10:05:00Z")]);
  const row = await store.scheduledJobs.get("j1");
  assert.deepEqual([row?.last_run_status, row?.last_run_error, row?.last_run_result], ["failed", "the queue is gone", null]);
  await scheduler.close();
});

forEachBackend("a disabled job does not fire, and a changed job fires no run from before its change", async (store) => {
  const time = clock(T0);
  const fired: string[] = [];
  const scheduler = new Scheduler({ repo: store.scheduledJobs, owner: "a", tickMs: 1000, now: time.now, log: quiet, run: async (row) => void fired.push(row.id) });
  await store.scheduledJobs.insert({ ...job("off", "* * * * * *"), enabled: 0 });
  await store.scheduledJobs.insert(job("changed", "0 * * * * *"));
  await scheduler.tick();
  // Changed at 10:01:30 to a cron whose last time before that was 10:01:00: that run is not fired.
  await store.scheduledJobs.change("changed", { cron: "0 * * * * *" }, Date.parse("2024-01-15T10:01:30Z"));
  time.set(Date.parse("2024-01-15T10:01:45Z"));
  await scheduler.tick();
  await scheduler.idle();
  assert.deepEqual(fired, []);
  time.set(Date.parse("2024-01-15T10:02:00Z"));
  await scheduler.tick();
  await scheduler.idle();
  assert.deepEqual(fired, ["changed"]);
  await scheduler.close();
});

import assert from "node:assert/strict";
import type { ScheduledJobRow } from "./index.js";
import { forEachBackend } from "./test-backends.js";

// Scheduled jobs and their run leases: the same contract on SQLite and PostgreSQL.

const T0 = 1_700_000_000_000;

function job(id: string, extra: Partial<ScheduledJobRow> = {}): ScheduledJobRow {
  return {
    id,
    name: id,
    cron: "0 * * * *",
    timezone: "UTC",
    model: "m",
    node: null,
    duration_ms: 60_000,
    action: '{"type":"webhook","url":"https://192.0.2.1/"}',
    enabled: 1,
    origin: null,
    last_run_at: null,
    last_run_status: null,
    last_run_error: null,
    last_run_result: null,
    created_at: T0,
    updated_at: T0,
    ...extra,
  };
}

forEachBackend("scheduled jobs are stored, listed, changed and removed", async (store) => {
  const jobs = store.scheduledJobs;
  await jobs.insert(job("j1"));
  await jobs.insert(job("j2", { enabled: 0, created_at: T0 + 1, origin: "docker:web" }));
  assert.deepEqual((await jobs.list()).map((j) => j.id), ["j1", "j2"]);
  assert.deepEqual((await jobs.listEnabled()).map((j) => j.id), ["j1"]);
  assert.equal(await jobs.count(), 2);
  assert.deepEqual((await jobs.withOrigins(["docker:web", "docker:none"])).map((j) => j.id), ["j2"]);
  assert.equal(await jobs.change("j1", { cron: "*/5 * * * *", node: "n1", duration_ms: 5000 }, T0 + 10), true);
  const changed = await jobs.get("j1");
  assert.deepEqual([changed?.cron, changed?.node, changed?.duration_ms, changed?.updated_at], ["*/5 * * * *", "n1", 5000, T0 + 10]);
  assert.equal(await jobs.change("nope", { name: "x" }, T0), false);
  assert.equal(await jobs.remove("j1"), true);
  assert.equal(await jobs.remove("j1"), false);
  assert.equal(await jobs.get("j1"), undefined);
});

forEachBackend("a job's last run is recorded unless a later one was recorded first", async (store) => {
  const jobs = store.scheduledJobs;
  await jobs.insert(job("j1"));
  await jobs.recordRun("j1", { last_run_at: T0 + 2000, last_run_status: "failed", last_run_error: "boom", last_run_result: null });
  await jobs.recordRun("j1", { last_run_at: T0 + 1000, last_run_status: "succeeded", last_run_error: null, last_run_result: "{}" });
  const row = await jobs.get("j1");
  assert.deepEqual([row?.last_run_at, row?.last_run_status, row?.last_run_error], [T0 + 2000, "failed", "boom"]);
  assert.equal(row?.updated_at, T0, "a run is not a change of the job");
});

forEachBackend("of several claims on one run, exactly one wins, on any store sharing the database", async (store, backend) => {
  const other = await backend.open();
  try {
    const claims = await Promise.all([
      store.scheduledJobs.claimRun("j1", T0, "a", T0),
      other.scheduledJobs.claimRun("j1", T0, "b", T0),
      store.scheduledJobs.claimRun("j1", T0, "c", T0),
    ]);
    assert.equal(claims.filter(Boolean).length, 1);
    assert.equal(await other.scheduledJobs.claimRun("j1", T0 + 1000, "b", T0), true, "the next run is a lease of its own");
    assert.equal(await store.scheduledJobs.pruneRuns(T0 + 1000), 1);
    assert.equal(await store.scheduledJobs.claimRun("j1", T0 + 1000, "a", T0), false, "a lease not yet pruned still holds");
  } finally {
    await other.close();
  }
});

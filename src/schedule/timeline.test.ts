import assert from "node:assert/strict";
import { test } from "node:test";
import { openSlots } from "./suggestions.js";
import { conflicts, plannedRuns, type PlannedJob } from "./timeline.js";

// A Monday in winter, midnight UTC.
const T0 = Date.parse("2024-01-15T00:00:00Z");
const HOUR = 3_600_000;

function job(id: string, cron: string, extra: Partial<PlannedJob> = {}): PlannedJob {
  return { id, name: id, cron, timezone: "UTC", model: "llama3", node: null, durationMs: 30 * 60_000, ...extra };
}

const one = () => 1;
const iso = (ms: number) => new Date(ms).toISOString();

function namedConflicts(jobs: PlannedJob[], concurrencyOf = one, hours = 24) {
  const { runs } = plannedRuns(jobs, T0, T0 + hours * HOUR, 100);
  const found = conflicts(runs, concurrencyOf);
  return runs.map((run, i) => ({ job: run.jobId, start: iso(run.start), with: [...found[i]].map(([j, reason]) => `${runs[j].jobId}:${reason}`) }));
}

test("two jobs of one model that overlap each name the other", () => {
  const runs = namedConflicts([job("a", "0 2 * * *"), job("b", "15 2 * * *")]);
  assert.deepEqual(runs, [
    { job: "a", start: "2024-01-15T02:00:00.000Z", with: ["b:same_model"] },
    { job: "b", start: "2024-01-15T02:15:00.000Z", with: ["a:same_model"] },
  ]);
});

test("different models on one node that takes one run at a time conflict; a node that takes two does not", () => {
  const jobs = [job("a", "0 2 * * *", { model: "m1", node: "n1" }), job("b", "15 2 * * *", { model: "m2", node: "n1" })];
  assert.deepEqual(namedConflicts(jobs).map((r) => r.with), [["b:node_full"], ["a:node_full"]]);
  assert.deepEqual(namedConflicts(jobs, () => 2).map((r) => r.with), [[], []]);
  const elsewhere = [jobs[0], { ...jobs[1], node: "n2" }];
  assert.deepEqual(namedConflicts(elsewhere).map((r) => r.with), [[], []], "different models on different nodes");
});

test("a third run on a node of two names the runs already there, and they do not name each other", () => {
  const jobs = ["a", "b", "c"].map((id, i) => job(id, `${i * 5} 2 * * *`, { model: `m${i}`, node: "n1" }));
  assert.deepEqual(namedConflicts(jobs, () => 2).map((r) => r.with), [["c:node_full"], ["c:node_full"], ["a:node_full", "b:node_full"]]);
});

test("runs that do not overlap have no conflicts, even back to back", () => {
  const runs = namedConflicts([job("a", "0 2 * * *"), job("b", "30 2 * * *", { node: "n1" }), job("c", "0 3 * * *", { node: "n1" })]);
  assert.deepEqual(runs.map((r) => r.with), [[], [], []]);
});

test("a cron is read in its timezone: 09:00 in Paris is 08:00 UTC in winter and 07:00 in summer", () => {
  const paris = job("p", "0 9 * * *", { timezone: "Europe/Paris" });
  assert.deepEqual(plannedRuns([paris], T0, T0 + 24 * HOUR, 10).runs.map((r) => iso(r.start)), ["2024-01-15T08:00:00.000Z"]);
  const july = Date.parse("2024-07-15T00:00:00Z");
  assert.deepEqual(plannedRuns([paris], july, july + 24 * HOUR, 10).runs.map((r) => iso(r.start)), ["2024-07-15T07:00:00.000Z"]);
});

test("a run started before the window that is still going is in it; each job's runs stop at the cap, and it says so", () => {
  const long = job("long", "0 23 * * *", { durationMs: 2 * HOUR });
  assert.deepEqual(plannedRuns([long], T0, T0 + HOUR, 10).runs.map((r) => [iso(r.start), iso(r.end)]), [["2024-01-14T23:00:00.000Z", "2024-01-15T01:00:00.000Z"]]);
  const { runs, capped } = plannedRuns([job("often", "* * * * *"), job("daily", "0 4 * * *")], T0, T0 + 31 * 24 * HOUR, 50);
  assert.deepEqual(capped, ["often"]);
  assert.equal(runs.filter((r) => r.jobId === "often").length, 50);
  assert.equal(runs.filter((r) => r.jobId === "daily").length, 31);
});

test("suggested slots avoid the model's runs and a full node's, each a daily cron that fires at its start", () => {
  const { runs } = plannedRuns([job("a", "0 0-11 * * *", { durationMs: HOUR }), job("b", "0 13 * * *", { model: "other", node: "n1", durationMs: 2 * HOUR })], T0, T0 + 24 * HOUR, 100);
  const request = { model: "llama3", node: null, durationMs: HOUR, timezone: "UTC", from: T0, to: T0 + 24 * HOUR, limit: 3 };
  const slots = openSlots(runs, request, one);
  assert.deepEqual(slots.map((s) => [iso(s.start), s.cron]), [
    ["2024-01-15T12:00:00.000Z", "0 12 * * *"],
    ["2024-01-15T13:00:00.000Z", "0 13 * * *"],
    ["2024-01-15T14:00:00.000Z", "0 14 * * *"],
  ]);
  const onNode = openSlots(runs, { ...request, node: "n1" }, one);
  assert.deepEqual(onNode.map((s) => iso(s.start)), ["2024-01-15T12:00:00.000Z", "2024-01-15T15:00:00.000Z", "2024-01-15T16:00:00.000Z"], "n1 is busy with b from 13:00 to 15:00");
  const paris = openSlots(runs, { ...request, timezone: "Europe/Paris", limit: 1 }, one);
  assert.deepEqual(paris.map((s) => [iso(s.start), s.cron]), [["2024-01-15T12:00:00.000Z", "0 13 * * *"]], "the cron is the time in Paris");
});

test("a slot is open only if the daily cron's every firing in the window is", () => {
  // Busy at 12:00 tomorrow only (a weekly job on Tuesdays): 12:00 today would collide tomorrow.
  const { runs } = plannedRuns([job("a", "0 0-11 * * *", { durationMs: HOUR }), job("t", "0 12 * * 2", { durationMs: HOUR })], T0, T0 + 48 * HOUR, 100);
  const slots = openSlots(runs, { model: "llama3", node: null, durationMs: HOUR, timezone: "UTC", from: T0, to: T0 + 48 * HOUR, limit: 1 }, one);
  assert.deepEqual(slots.map((s) => iso(s.start)), ["2024-01-15T13:00:00.000Z"]);
});

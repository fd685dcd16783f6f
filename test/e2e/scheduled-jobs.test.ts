import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { startFlotilla, userKey, waitFor, type Flotilla } from "./harness.js";
import { startReceiver, type Receiver } from "./receiver.js";

// Scheduled jobs through HTTP on a real gateway: a cron that fires every second queues a task or calls a webhook.

let gw: Flotilla;
let allowed: Receiver;
let refused: Receiver;

interface Job {
  id: string;
  nextRun: string | null;
  lastRun: { at: string; status: string; error: string | null; result: { tasks?: string[]; status?: number } } | null;
}

const queueAction = { type: "queue", queue: "nightly", tasks: [{ data: { messages: [{ role: "user", content: "hi" }] } }] };

async function create(body: Record<string, unknown>): Promise<Response> {
  return gw.admin("/api/scheduled-jobs", { method: "POST", body: JSON.stringify({ name: "job", cron: "0 3 * * *", model: "llama3", action: queueAction, ...body }) });
}

async function job(id: string): Promise<Job | undefined> {
  const { jobs } = (await (await gw.admin("/api/scheduled-jobs")).json()) as { jobs: Job[] };
  return jobs.find((j) => j.id === id);
}

before(async () => {
  // Two loopback receivers: the operator allows only the first address.
  allowed = await startReceiver("127.0.0.1");
  refused = await startReceiver("127.0.0.2");
  const yaml = ["queues:", "  - { name: nightly, consumer: workers }", "outbound:", "  allow: ['127.0.0.1']", "schedule:", "  tick_ms: 200", "  docker_host: 'unix:///nonexistent/docker.sock'", ""].join("\n");
  gw = await startFlotilla({ yaml });
});
after(async () => {
  await gw.stop();
  await allowed.close();
  await refused.close();
});

test("a job on a cron of every second queues its task, and the list shows its last run", async () => {
  const res = await create({ name: "every second", cron: "* * * * * *", durationMs: 500 });
  assert.equal(res.status, 201);
  const made = (await res.json()) as Job & { timezone: string; enabled: boolean; source: string };
  assert.deepEqual([made.timezone, made.enabled, made.source, made.lastRun], ["UTC", true, "api", null]);
  assert.ok(made.nextRun && Date.parse(made.nextRun) - Date.now() <= 1500);
  const ran = await waitFor("a run", async () => (await job(made.id))?.lastRun ?? undefined, 8000);
  assert.equal(ran.status, "succeeded");
  const taskId = ran.result.tasks?.[0] ?? "";
  const task = (await (await gw.admin(`/api/cli/queues/nightly/tasks/${taskId}`)).json()) as { state: string; data: { model: string } };
  assert.deepEqual([task.state, task.data.model], ["pending", "llama3"], "the task is in the queue, with the job's model");
  const off = await gw.admin(`/api/scheduled-jobs/${made.id}`, { method: "PUT", body: JSON.stringify({ enabled: false }) });
  assert.equal(((await off.json()) as Job).nextRun, null);
  assert.equal((await gw.admin(`/api/scheduled-jobs/${made.id}`, { method: "DELETE" })).status, 204);
  assert.equal((await gw.admin(`/api/scheduled-jobs/${made.id}`, { method: "DELETE" })).status, 404);
});

test("a webhook job reaches a loopback receiver the operator allows; another loopback address is refused when the job is made", async () => {
  const denied = await create({ cron: "* * * * * *", action: { type: "webhook", url: refused.url } });
  assert.equal(denied.status, 400);
  assert.match(((await denied.json()) as { error: string }).error, /^action\.url is refused: 127\.0\.0\.2 is a loopback address/);
  const res = await create({ name: "hook", cron: "* * * * * *", action: { type: "webhook", url: allowed.url, payload: { hello: 1 } } });
  assert.equal(res.status, 201);
  const { id } = (await res.json()) as Job;
  const call = await waitFor("the webhook call", () => allowed.received[0], 8000);
  const body = JSON.parse(call.body) as { event: string; job: { id: string }; payload: unknown };
  assert.deepEqual([body.event, body.job.id, body.payload, call.headers["x-flotilla-scheduled-job"]], ["scheduled_job.run", id, { hello: 1 }, id]);
  await gw.admin(`/api/scheduled-jobs/${id}`, { method: "DELETE" });
  assert.equal(refused.received.length, 0);
});

test("a bad cron or timezone is a 400 whose message starts with the field, and an unknown queue names action.queue", async () => {
  for (const [body, param] of [
    [{ cron: "61 * * * *" }, "cron"],
    [{ cron: "not a cron" }, "cron"],
    [{ timezone: "Mars/Olympus" }, "timezone"],
    [{ action: { ...queueAction, queue: "nope" } }, "action.queue"],
  ] as const) {
    const res = await create(body);
    assert.equal(res.status, 400, JSON.stringify(body));
    const { error } = (await res.json()) as { error: string };
    assert.ok(error.startsWith(`${param} `), error);
  }
  const made = (await (await create({ name: "ok" })).json()) as Job;
  const bad = await gw.admin(`/api/scheduled-jobs/${made.id}`, { method: "PUT", body: JSON.stringify({ timezone: "Nowhere" }) });
  assert.equal(bad.status, 400);
  assert.match(((await bad.json()) as { error: string }).error, /^timezone "Nowhere"/);
  await gw.admin(`/api/scheduled-jobs/${made.id}`, { method: "DELETE" });
});

test("the timeline names conflicting runs, suggestions avoid them, and without Docker discovery says why", async () => {
  const a = (await (await create({ name: "a", cron: "0 3 * * *", durationMs: 3_600_000 })).json()) as Job;
  const b = (await (await create({ name: "b", cron: "30 3 * * *", durationMs: 600_000 })).json()) as Job;
  const timeline = (await (await gw.admin("/api/scheduled-jobs/timeline?hours=24")).json()) as { runs: Array<{ jobId: string; conflicts: Array<{ jobId: string; reason: string }> }> };
  const runOf = (id: string) => timeline.runs.find((r) => r.jobId === id);
  assert.deepEqual(runOf(a.id)?.conflicts.map((c) => [c.jobId, c.reason]), [[b.id, "same_model"]]);
  assert.deepEqual(runOf(b.id)?.conflicts.map((c) => [c.jobId, c.reason]), [[a.id, "same_model"]]);
  const { suggestions } = (await (await gw.admin("/api/scheduled-jobs/suggestions?model=llama3&durationMs=1800000&limit=20&hours=24")).json()) as { suggestions: Array<{ start: string; cron: string }> };
  assert.equal(suggestions.length, 20);
  for (const s of suggestions) {
    const minutes = new Date(s.start).getUTCHours() * 60 + new Date(s.start).getUTCMinutes();
    assert.ok(minutes + 30 <= 180 || minutes >= 240, `${s.start} overlaps 03:00-04:00`);
  }
  assert.equal((await gw.admin("/api/scheduled-jobs/timeline?hours=745")).status, 400);
  const discovered = (await (await gw.admin("/api/scheduled-jobs/discover")).json()) as { jobs: unknown[]; reason: string };
  assert.deepEqual(discovered.jobs, []);
  assert.match(discovered.reason, /Docker is not reachable at unix:\/\/\/nonexistent\/docker\.sock/);
  for (const job of [a, b]) await gw.admin(`/api/scheduled-jobs/${job.id}`, { method: "DELETE" });
});

test("scheduled jobs are for operators: a user's key is refused", async () => {
  const key = await userKey(gw, "scheduler-user");
  const res = await fetch(`${gw.url}/api/scheduled-jobs`, { headers: { authorization: `Bearer ${key}` } });
  assert.equal(res.status, 403);
});

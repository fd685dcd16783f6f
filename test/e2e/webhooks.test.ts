import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import OpenAI from "openai";
import { startSim, type SimServer } from "../sim/index.js";
import { startFlotilla, waitFor, type Flotilla } from "./harness.js";
import { startReceiver, type Receiver } from "./receiver.js";

/** A loopback receiver that answers each POST with the next status of `statuses` (200 once they run out). */
function receiver(statuses: number[] = []): Promise<Receiver> {
  return startReceiver("127.0.0.1", (_req, res) => {
    res.statusCode = statuses.shift() ?? 200;
    res.end();
  });
}

interface Delivery {
  event_type: string;
  status: string;
  attempts: number;
  last_status: number | null;
}

describe("webhooks (seed 002): signed deliveries, retries, a delivery log, and no internal targets", () => {
  let gw: Flotilla;
  let guarded: Flotilla;
  let sim: SimServer;

  before(async () => {
    sim = await startSim({ kind: "openai", models: ["m"] });
    gw = await startFlotilla({
      servers: [`${sim.url},openai`],
      env: { FLOTILLA_WEBHOOKS__ALLOW_PRIVATE: "true", FLOTILLA_WEBHOOKS__RETRY_BASE_MS: "50", FLOTILLA_WEBHOOKS__MAX_ATTEMPTS: "3", FLOTILLA_WEBHOOKS__POLL_MS: "20" },
      yaml: "queues:\n  - { name: jobs }\ntask_runner:\n  poll_ms: 50\n",
    });
    guarded = await startFlotilla();
  });
  after(async () => {
    await Promise.all([gw?.stop(), guarded?.stop()]);
    await sim?.close();
  });

  const create = async (target: Flotilla, body: object) => target.admin("/v1/webhooks", { method: "POST", body: JSON.stringify(body) });
  const deliveries = async (id: string) => ((await (await gw.admin(`/v1/webhooks/${id}/deliveries`)).json()) as { data: Delivery[] }).data;

  test("a loopback, private or non-HTTP URL is refused unless the operator allows it", async () => {
    for (const url of ["http://127.0.0.1:9/x", "http://localhost:9/x", "http://10.0.0.1/x", "http://[::1]/x", "http://[::ffff:127.0.0.1]/x", "http://169.254.169.254/latest", "ftp://example.com/x"]) {
      const res = await create(guarded, { url, events: ["webhook.test"] });
      assert.equal(res.status, 400, url);
      const body = (await res.json()) as { error: { param: string; message: string } };
      assert.equal(body.error.param, "url");
      assert.match(body.error.message, /the webhook URL is refused/);
    }
    const unknownEvent = await create(guarded, { url: "https://example.com/x", events: ["nothing.happened"] });
    assert.equal(unknownEvent.status, 400);
  });

  test("a test event arrives signed as Standard Webhooks sign, and the official client verifies it", async () => {
    const hook = await receiver();
    try {
      const created = await create(gw, { url: hook.url, events: ["webhook.test"], description: "mine" });
      assert.equal(created.status, 201);
      const { id, secret } = (await created.json()) as { id: string; secret: string };
      assert.match(secret, /^whsec_/);
      const listed = (await (await gw.admin("/v1/webhooks")).json()) as { data: Array<{ id: string; secret?: string }> };
      assert.ok(listed.data.some((w) => w.id === id && w.secret === undefined), "the secret is shown only once");

      assert.equal((await gw.admin(`/v1/webhooks/${id}/test`, { method: "POST" })).status, 202);
      await waitFor("the test event", () => hook.received.length === 1);
      const [got] = hook.received;
      const event = JSON.parse(got.body) as { id: string; object: string; type: string; created_at: number; data: { id: string } };
      assert.deepEqual([event.object, event.type, event.data.id], ["event", "webhook.test", id]);
      assert.equal(got.headers["webhook-id"], event.id);
      const openai = new OpenAI({ apiKey: "unused" });
      await openai.webhooks.verifySignature(got.body, got.headers as Record<string, string>, secret);
      await assert.rejects(openai.webhooks.verifySignature(got.body.replace("webhook.test", "webhook.evil"), got.headers as Record<string, string>, secret));
      await waitFor("the delivery logged", async () => (await deliveries(id))[0]?.status === "delivered");
    } finally {
      await hook.close();
    }
  });

  test("a failing endpoint is retried with the same event id until it answers, then marked failed past max_attempts", async () => {
    const flaky = await receiver([500, 503]);
    const dead = await receiver([500, 500, 500, 500]);
    try {
      const a = ((await (await create(gw, { url: flaky.url, events: ["*"] })).json()) as { id: string }).id;
      const b = ((await (await create(gw, { url: dead.url, events: ["webhook.test"] })).json()) as { id: string }).id;
      await gw.admin(`/v1/webhooks/${a}/test`, { method: "POST" });
      await gw.admin(`/v1/webhooks/${b}/test`, { method: "POST" });
      await waitFor("the flaky endpoint to take it on the third attempt", async () => (await deliveries(a))[0]?.status === "delivered");
      assert.deepEqual((await deliveries(a))[0], { ...(await deliveries(a))[0], attempts: 3, last_status: 200 });
      assert.equal(new Set(flaky.received.map((r) => r.headers["webhook-id"])).size, 1, "every attempt carries the same event id");
      await waitFor("the dead endpoint to be given up", async () => (await deliveries(b))[0]?.status === "failed");
      assert.deepEqual([(await deliveries(b))[0].attempts, (await deliveries(b))[0].last_status], [3, 500]);
    } finally {
      await Promise.all([flaky.close(), dead.close()]);
    }
  });

  test("a task that completes is a task.completed event for the webhooks of whoever queued it; others see none of it", async () => {
    const hook = await receiver();
    try {
      const id = ((await (await create(gw, { url: hook.url, events: ["task.completed"] })).json()) as { id: string }).id;
      const added = await gw.admin("/queue/add", { method: "POST", body: JSON.stringify({ queue: "jobs", data: { api: "openai", model: "m", messages: [{ role: "user", content: "hi" }] } }) });
      const taskId = ((await added.json()) as { info: { id: string } }).info.id;
      await waitFor("the task.completed event", () => hook.received.length === 1, 15_000);
      const event = JSON.parse(hook.received[0].body) as { type: string; data: { id: string; task: { state: string } } };
      assert.deepEqual([event.type, event.data.id, event.data.task.state], ["task.completed", taskId, "completed"]);

      const { user } = (await (await gw.admin("/api/users", { method: "POST", body: JSON.stringify({ username: "other", password: "another long password" }) })).json()) as { user: { id: string } };
      const key = ((await (await gw.admin(`/api/users/${user.id}/api-key`, { method: "POST", body: "{}" })).json()) as { key: string }).key;
      const as = (path: string, init: RequestInit = {}) => fetch(gw.url + path, { ...init, headers: { authorization: `Bearer ${key}`, "content-type": "application/json" } });
      assert.deepEqual(((await (await as("/v1/webhooks")).json()) as { data: unknown[] }).data, []);
      assert.equal((await as(`/v1/webhooks/${id}`)).status, 404);
      assert.equal((await as(`/v1/webhooks/${id}`, { method: "DELETE" })).status, 404);
      const patched = await gw.admin(`/v1/webhooks/${id}`, { method: "PATCH", body: JSON.stringify({ enabled: false }) });
      assert.equal(((await patched.json()) as { enabled: boolean }).enabled, false);
      assert.deepEqual(await (await gw.admin(`/v1/webhooks/${id}`, { method: "DELETE" })).json(), { id, object: "webhook.deleted", deleted: true });
      assert.equal((await gw.admin(`/v1/webhooks/${id}`)).status, 404);
    } finally {
      await hook.close();
    }
  });
});

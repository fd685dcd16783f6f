import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { startSim, type SimServer } from "../sim/index.js";
import { startFlotilla, userKey, waitFor, type Flotilla } from "./harness.js";
import { startReceiver as receiver, type Receiver } from "./receiver.js";

const chat = { api: "openai", model: "m", messages: [{ role: "user", content: "the secret prompt" }] };
const settle = () => new Promise((resolve) => setTimeout(resolve, 300));

describe("a URL a user gives does not make the gateway reach inside its own network (task webhooks)", () => {
  let sim: SimServer;
  let inside: Receiver;
  let operatorHook: Receiver;
  let guarded: Flotilla;
  let allowing: Flotilla;

  before(async () => {
    sim = await startSim({ kind: "openai", models: ["m"] });
    inside = await receiver();
    operatorHook = await receiver();
    const common = `task_runner:\n  poll_ms: 50\n`;
    guarded = await startFlotilla({ servers: [`${sim.url},openai`], yaml: `${common}queues:\n  - { name: batch }\n  - { name: ops, webhook_url: "${operatorHook.url}" }\n` });
    allowing = await startFlotilla({ servers: [`${sim.url},openai`], yaml: `${common}queues:\n  - { name: batch }\noutbound:\n  allow: ["127.0.0.1"]\n` });
  });
  after(async () => {
    await Promise.all([guarded?.stop(), allowing?.stop()]);
    await Promise.all([sim?.close(), inside?.close(), operatorHook?.close()]);
  });

  /** A user with a key of their own, as anyone with an account is. */
  async function user(gw: Flotilla): Promise<(path: string, body: unknown) => Promise<Response>> {
    const key = await userKey(gw, `user-${Math.random().toString(36).slice(2, 10)}`);
    return (path, body) => fetch(gw.url + path, { method: "POST", headers: { authorization: `Bearer ${key}`, "content-type": "application/json" }, body: JSON.stringify(body) });
  }

  const taskState = async (gw: Flotilla, id: string) => ((await (await gw.admin(`/api/cli/tasks/${id}`)).json()) as { state: string }).state;

  test("a user's webhook_url at loopback (by address, by name, IPv4-mapped) or at cloud metadata is a 400 naming it, and nothing is sent", async () => {
    const post = await user(guarded);
    const port = new URL(inside.url).port;
    const refused: Array<[string, RegExp]> = [
      [`http://127.0.0.1:${port}/hook`, /127\.0\.0\.1 is a loopback address/],
      [`http://localhost:${port}/hook`, /localhost resolves to 127\.0\.0\.1, a loopback address/],
      [`http://[::ffff:127.0.0.1]:${port}/hook`, /carries 127\.0\.0\.1, a loopback address/],
      [`http://[::ffff:7f00:1]:${port}/hook`, /carries 127\.0\.0\.1, a loopback address/],
      ["http://169.254.169.254/latest/meta-data/", /link-local/],
    ];
    for (const [url, why] of refused) {
      const res = await post("/queue/add", { queue: "batch", data: chat, webhook_url: url });
      const body = (await res.json()) as { error: string };
      assert.equal(res.status, 400, url);
      assert.match(body.error, /^webhook_url is refused: /, url);
      assert.match(body.error, why, url);
    }
    const bulk = await post("/queue/bulk", { queue: "batch", tasks: [{ data: chat }, { data: chat, webhook_url: inside.url }] });
    assert.equal(bulk.status, 400);
    assert.match(((await bulk.json()) as { error: string }).error, /^tasks\[1\]\.webhook_url is refused: .*loopback/);
    const queue = (await (await guarded.admin("/api/cli/queues/batch")).json()) as { counts: Record<string, number> };
    assert.equal(Object.values(queue.counts).reduce((a, b) => a + b, 0), 0, "no task of a refused call was queued");
    await settle();
    assert.deepEqual(inside.received, [], "the loopback receiver heard nothing");
  });

  test("the queue's own webhook_url, from the operator's YAML, is trusted although it is at loopback", async () => {
    const post = await user(guarded);
    const res = await post("/queue/add", { queue: "ops", data: chat });
    assert.equal(res.status, 200);
    const { id } = ((await res.json()) as { info: { id: string } }).info;
    await waitFor("the operator's webhook", () => operatorHook.received.some((r) => r.body.includes(id)), 15_000);
  });

  test("outbound.allow lets the operator allow exactly one internal receiver: the same webhook then arrives", async () => {
    const post = await user(allowing);
    const res = await post("/queue/add", { queue: "batch", data: chat, webhook_url: inside.url });
    assert.equal(res.status, 200, await res.clone().text());
    const { id } = ((await res.json()) as { info: { id: string } }).info;
    const delivered = await waitFor("the webhook", () => inside.received.find((r) => r.body.includes(id)), 15_000);
    const event = JSON.parse(delivered.body) as { event: string; task: { id: string } };
    assert.deepEqual([event.event, event.task.id], ["task.completed", id]);
  });

  test("an allowed receiver that redirects elsewhere inside is not followed there", async () => {
    const target = await receiver("127.0.0.2");
    const redirector = await receiver("127.0.0.1", (_req, res) => res.writeHead(307, { location: target.url }).end());
    try {
      const post = await user(allowing);
      const res = await post("/queue/add", { queue: "batch", data: chat, webhook_url: redirector.url });
      assert.equal(res.status, 200);
      const { id } = ((await res.json()) as { info: { id: string } }).info;
      await waitFor("the task to complete", async () => (await taskState(allowing, id)) === "completed", 15_000);
      await waitFor("the allowed receiver to be told", () => redirector.received.length === 1);
      await settle();
      assert.deepEqual(target.received, [], "the redirect's target heard nothing");
    } finally {
      await Promise.all([target.close(), redirector.close()]);
    }
  });
});

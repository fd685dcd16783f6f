import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { startWithModelM, type Flotilla } from "./harness.js";

const YAML = ["audit:", "  flush_interval_ms: 50", "queues:", "  - { name: batch, retries: 0, dead_letter: false }"].join("\n");
const JSON_TYPE = { "content-type": "application/json" };

describe("a gateway task runs as the key that queued it", () => {
  let gw: Flotilla;
  let stop: () => Promise<void>;
  let cookie: string;

  before(async () => {
    ({ gw, stop } = await startWithModelM({ yaml: YAML }));
    const setup = await fetch(`${gw.url}/api/auth/setup`, { method: "POST", headers: JSON_TYPE, body: JSON.stringify({ username: "root", password: "root password" }) });
    const adminCookie = (setup.headers.get("set-cookie") ?? "").split(";")[0] as string;
    await fetch(`${gw.url}/api/users`, { method: "POST", headers: { ...JSON_TYPE, cookie: adminCookie }, body: JSON.stringify({ username: "batcher", password: "batch password" }) });
    const login = await fetch(`${gw.url}/api/auth/login`, { method: "POST", headers: JSON_TYPE, body: JSON.stringify({ username: "batcher", password: "batch password" }) });
    cookie = (login.headers.get("set-cookie") ?? "").split(";")[0] as string;
  });
  after(() => stop());

  const makeKey = async (fields: Record<string, unknown>) => {
    const made = await fetch(`${gw.url}/auth/api-keys`, { method: "POST", headers: { ...JSON_TYPE, cookie }, body: JSON.stringify({ name: "batch", ...fields }) });
    return (await made.json()) as { key: string; id: string };
  };
  const queue = (key: string, extra: Record<string, unknown> = {}) =>
    fetch(`${gw.url}/queue/add`, {
      method: "POST",
      headers: { ...JSON_TYPE, authorization: `Bearer ${key}` },
      body: JSON.stringify({ queue: "batch", data: { api: "openai", model: "m", messages: [{ role: "user", content: "hello there" }] }, ...extra }),
    });
  const queued = async (res: Response) => {
    assert.equal(res.status, 200);
    return ((await res.json()) as { info: { id: string } }).info.id;
  };
  const ended = async (id: string) => {
    for (;;) {
      const { info } = (await (await gw.admin(`/queue/${id}/batch`)).json()) as { info: { state: string; error?: string | null; result?: unknown } };
      if (!["pending", "scheduled", "active", "retry"].includes(info.state)) return info;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };

  test("a task whose key is revoked before it runs fails, unrun", async () => {
    const { key, id: keyId } = await makeKey({});
    assert.equal((await gw.admin("/api/cli/queues/batch/pause", { method: "POST" })).status, 200);
    const id = await queued(await queue(key));
    assert.equal((await fetch(`${gw.url}/auth/api-keys/${keyId}`, { method: "DELETE", headers: { cookie } })).status, 204);
    assert.equal((await gw.admin("/api/cli/queues/batch/unpause", { method: "POST" })).status, 200);
    const task = await ended(id);
    assert.equal(task.state, "failed");
    assert.match(task.error ?? "", /^401/);
    // Only the gateway's own runner may act for another key: a client's key that names one acts as itself.
    const other = await makeKey({});
    const asItself = await fetch(`${gw.url}/v1/chat/completions`, {
      method: "POST",
      headers: { ...JSON_TYPE, authorization: `Bearer ${other.key}`, "x-flotilla-task-key": keyId },
      body: JSON.stringify({ model: "m", messages: [{ role: "user", content: "hi" }] }),
    });
    assert.equal(asItself.status, 200);
  });

  test("its tokens count against that key's daily budget, which then refuses the key's later tasks", async () => {
    const { key } = await makeKey({ daily_token_budget: 5 });
    const now = await queued(await queue(key));
    // Queued while the budget is unspent; it runs once the first task's tokens are recorded and re-read (within two seconds).
    const later = await queued(await queue(key, { delay: 3 }));
    const first = await ended(now);
    assert.equal(first.state, "completed");
    assert.ok(((first.result as { usage?: { total_tokens: number } }).usage?.total_tokens ?? 0) > 5, "one answer spends the budget");
    const second = await ended(later);
    assert.equal(second.state, "failed");
    assert.match(second.error ?? "", /daily budget of 5 tokens is used up/, "a queued task does not get around the key's budget");
    assert.equal((await queue(key)).status, 429, "nor does queueing more");
  });
});

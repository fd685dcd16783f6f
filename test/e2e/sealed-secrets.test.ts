import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import OpenAI from "openai";
import { openStore } from "../../src/store/index.js";
import { startSim, type SimServer } from "../sim/index.js";
import { startFlotilla, waitFor } from "./harness.js";
import { startReceiver, type Receiver } from "./receiver.js";

const SECRET_KEY = "the-operators-secret-key-0123456789abcdef";
const API_KEY = "sk-upstream-0123456789abcdef";

/** Every admin and fleet view that shows servers or nodes. */
const VIEWS = ["/admin/servers", "/admin/servers/keyed", "/api/servers", "/api/v1/nodes", "/api/v1/nodes/keyed", "/api/distributed/nodes", "/api/distributed/status", "/api/state"];

describe("secrets the gateway must use again are sealed at rest (secret_key)", () => {
  let sim: SimServer;
  let hook: Receiver;
  const dataDir = mkdtempSync(join(tmpdir(), "flotilla-e2e-"));

  before(async () => {
    sim = await startSim({ kind: "openai", models: ["m"] });
    hook = await startReceiver();
  });
  after(async () => {
    await sim?.close();
    await hook?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  test("an upstream api_key and a webhook's signing secret are stored sealed, still used, and shown nowhere", async () => {
    const gw = await startFlotilla({ dataDir, env: { FLOTILLA_SECRET_KEY: SECRET_KEY, FLOTILLA_WEBHOOKS__ALLOW_PRIVATE: "true" } });
    let signingSecret: string;
    try {
      const added = await gw.admin("/admin/servers", { method: "POST", body: JSON.stringify({ name: "keyed", url: sim.url, kind: "openai", api_key: API_KEY }) });
      assert.equal(added.status, 201);
      assert.ok(!(await added.text()).includes(API_KEY));
      for (const path of VIEWS) {
        const res = await gw.admin(path);
        assert.equal(res.status, 200, path);
        assert.ok(!(await res.text()).includes(API_KEY), `${path} shows the api_key`);
      }
      sim.requests.length = 0;
      const chat = await gw.admin("/v1/chat/completions", { method: "POST", body: JSON.stringify({ model: "m", messages: [{ role: "user", content: "hi" }] }) });
      assert.equal(chat.status, 200);
      assert.equal(sim.requests.find((r) => r.path === "/v1/chat/completions")?.headers.authorization, `Bearer ${API_KEY}`);

      const created = (await (await gw.admin("/v1/webhooks", { method: "POST", body: JSON.stringify({ url: hook.url, events: ["webhook.test"] }) })).json()) as { id: string; secret: string };
      signingSecret = created.secret;
      assert.match(signingSecret, /^whsec_/);
      assert.equal(((await (await gw.admin(`/v1/webhooks/${created.id}`)).json()) as { secret?: string }).secret, undefined);
      assert.equal((await gw.admin(`/v1/webhooks/${created.id}/test`, { method: "POST" })).status, 202);
      await waitFor("the test event", () => hook.received.length === 1);
      await new OpenAI({ apiKey: "unused" }).webhooks.verifySignature(hook.received[0].body, hook.received[0].headers as Record<string, string>, signingSecret);
    } finally {
      await gw.stop();
    }
    assert.ok(!gw.output().includes(API_KEY) && !gw.output().includes(signingSecret), "nothing secret is logged");

    const store = await openStore({ dataDir });
    try {
      const server = await store.db.selectFrom("servers").select("api_key").where("name", "=", "keyed").executeTakeFirstOrThrow();
      assert.ok(server.api_key?.startsWith("enc:v1:") && !server.api_key.includes(API_KEY), `api_key stored as ${server.api_key}`);
      const [hook] = await store.db.selectFrom("webhooks").select("secret").execute();
      assert.ok(hook.secret.startsWith("enc:v1:") && !hook.secret.includes(signingSecret.slice("whsec_".length)), `secret stored as ${hook.secret}`);
    } finally {
      await store.close();
    }
  });

  test("restarted with another secret_key, the gateway starts, and the server whose key does not open is listed down with why and a logged error", async () => {
    const gw = await startFlotilla({ dataDir, env: { FLOTILLA_SECRET_KEY: "another-secret-key-that-is-32-characters-long" } });
    try {
      const { servers } = (await (await gw.admin("/admin/servers")).json()) as { servers: Array<{ name: string; up: boolean; last_error: string | null }> };
      const keyed = servers.find((s) => s.name === "keyed");
      assert.equal(keyed?.up, false);
      assert.match(keyed?.last_error ?? "", /cannot be used: the stored server api_key cannot be opened/);
      assert.match(gw.output(), /server keyed \(\S+\) cannot be used and is skipped: the stored server api_key cannot be opened: it was sealed under another secret_key/);
    } finally {
      await gw.stop();
    }
  });

  test("without secret_key, one is generated once and kept in the database, and opens the keys again after a restart", async () => {
    const ownDir = mkdtempSync(join(tmpdir(), "flotilla-e2e-"));
    try {
      const first = await startFlotilla({ dataDir: ownDir });
      try {
        assert.equal((await first.admin("/admin/servers", { method: "POST", body: JSON.stringify({ name: "keyed", url: sim.url, kind: "openai", api_key: API_KEY }) })).status, 201);
      } finally {
        await first.stop();
      }
      sim.requests.length = 0;
      const again = await startFlotilla({ dataDir: ownDir });
      try {
        const server = (await (await again.admin("/admin/servers/keyed")).json()) as { up: boolean; has_api_key: boolean };
        assert.deepEqual([server.up, server.has_api_key], [true, true]);
        assert.ok(sim.requests.some((r) => r.headers.authorization === `Bearer ${API_KEY}`), "the poll after the restart carried the key");
      } finally {
        await again.stop();
      }
      const store = await openStore({ dataDir: ownDir });
      try {
        const generated = await store.db.selectFrom("secrets").select("value").where("name", "=", "sealing_key").executeTakeFirst();
        assert.ok(generated && generated.value.length >= 32);
      } finally {
        await store.close();
      }
    } finally {
      rmSync(ownDir, { recursive: true, force: true });
    }
  });
});

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import OpenAI from "openai";
import { requireRedis, TEST_REDIS_URL } from "../../src/store/test-backends.js";
import { ADMIN_KEY, startWithModelM, type Flotilla } from "./harness.js";

const LIMITS = [
  "auth:",
  "  guests: true",
  "  guest_limits: { requests_per_minute: 0 }",
  "  rate_limits:",
  "    inference: { per_key: 3, window_ms: 60000 }",
  "    admin: { per_key: 2, window_ms: 60000 }",
  "    standard: { per_user: 4, window_ms: 60000 }",
  "audit:",
  "  flush_interval_ms: 50",
].join("\n");

const limitHeaders = (res: Response) => ["limit", "remaining", "reset"].map((h) => res.headers.get(`x-ratelimit-${h}`));

for (const backend of ["memory", "redis"] as const) {
  describe(`rate limits per key and per user, by route class (seed 003) [${backend}]`, () => {
    let gw: Flotilla | undefined;
    let stop: (() => Promise<void>) | undefined;

    before(async (t) => {
      if (backend === "redis" && !(await requireRedis(t as unknown as Parameters<typeof requireRedis>[0]))) return;
      ({ gw, stop } = await startWithModelM({ yaml: LIMITS, env: backend === "redis" ? { REDIS_URL: TEST_REDIS_URL } : {} }));
    });
    after(() => stop?.());

    test("admin routes count apart from inference; past the limit comes 429 with Retry-After", async (t) => {
      if (!gw) return t.skip("Redis not reachable");
      const first = await gw.admin("/admin/servers");
      const [limit, remaining, reset] = limitHeaders(first);
      assert.deepEqual([first.status, limit, remaining], [200, "2", "1"]);
      assert.ok(Number(reset) * 1000 > Date.now() && Number(reset) * 1000 <= Date.now() + 61_000, "reset is the window's end, in epoch seconds");
      assert.equal(limitHeaders(await gw.admin("/admin/servers"))[1], "0");
      const refused = await gw.admin("/admin/servers");
      assert.equal(refused.status, 429);
      assert.ok(Number(refused.headers.get("retry-after")) >= 1);
      assert.equal(limitHeaders(refused)[1], "0");
      const body = (await refused.json()) as { error: string; code: string };
      assert.deepEqual([body.code, /2 requests per 60 s/.test(body.error)], ["rate_limited", true]);

      const openai = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: ADMIN_KEY, maxRetries: 0 });
      for (let i = 0; i < 3; i++) {
        const { response } = await openai.chat.completions.create({ model: "m", messages: [{ role: "user", content: "hi" }] }).withResponse();
        assert.equal(response.headers.get("x-ratelimit-remaining"), String(2 - i));
      }
      await assert.rejects(openai.chat.completions.create({ model: "m", messages: [{ role: "user", content: "hi" }] }), (err: unknown) => {
        assert.ok(err instanceof OpenAI.RateLimitError);
        assert.ok(Number(err.headers?.get("retry-after")) >= 1);
        return true;
      });
    });

    test("a user's standard routes are limited per user; a class with no limit sends no headers", async (t) => {
      if (!gw) return t.skip("Redis not reachable");
      const guest = (await (await fetch(`${gw.url}/auth/guest-login`, { method: "POST" })).json()) as { access_token: string };
      const me = () => fetch(`${gw?.url}/auth/me`, { headers: { authorization: `Bearer ${guest.access_token}` } });
      const statuses = [];
      for (let i = 0; i < 5; i++) statuses.push((await me()).status);
      assert.deepEqual(statuses, [200, 200, 200, 200, 429]);
      const chat = await fetch(`${gw.url}/v1/chat/completions`, {
        method: "POST",
        headers: { authorization: `Bearer ${guest.access_token}`, "content-type": "application/json" },
        body: JSON.stringify({ model: "m", messages: [{ role: "user", content: "hi" }] }),
      });
      assert.equal(chat.status, 200);
      assert.equal(chat.headers.get("x-ratelimit-limit"), null, "inference is limited per key only, and a token is no key");
    });

    if (backend === "memory") {
      test("a key's daily token budget, counted from the usage records, refuses it once spent", async (t) => {
        if (!gw) return t.skip("no gateway");
        // The admin key has used its admin requests: an admin signed in by session has limits of their own.
        const setup = await fetch(`${gw.url}/api/auth/setup`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ username: "root", password: "root password" }) });
        const adminCookie = (setup.headers.get("set-cookie") ?? "").split(";")[0];
        const created = await fetch(`${gw.url}/api/users`, { method: "POST", headers: { cookie: adminCookie, "content-type": "application/json" }, body: JSON.stringify({ username: "budgeted", password: "budget password" }) });
        assert.equal(created.status, 201);
        const login = await fetch(`${gw.url}/api/auth/login`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ username: "budgeted", password: "budget password" }) });
        const cookie = (login.headers.get("set-cookie") ?? "").split(";")[0];
        const made = await fetch(`${gw.url}/auth/api-keys`, { method: "POST", headers: { cookie, "content-type": "application/json" }, body: JSON.stringify({ name: "small", daily_token_budget: 5 }) });
        const { key } = (await made.json()) as { key: string };
        const openai = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: key, maxRetries: 0 });
        const answer = await openai.chat.completions.create({ model: "m", messages: [{ role: "user", content: "hi there" }] });
        assert.ok((answer.usage?.total_tokens ?? 0) > 5, "one answer spends the budget");
        // The usage rows are written within the audit flush; the spend is re-read within two seconds.
        await new Promise((resolve) => setTimeout(resolve, 2300));
        await assert.rejects(openai.chat.completions.create({ model: "m", messages: [{ role: "user", content: "again" }] }), (err: unknown) => {
          assert.ok(err instanceof OpenAI.RateLimitError);
          assert.match(err.message, /daily budget of 5 tokens is used up/);
          return true;
        });
      });
    }
  });
}

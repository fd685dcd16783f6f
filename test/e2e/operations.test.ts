import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { SimServer } from "../sim/index.js";
import { simulators, startFlotilla, waitFor, type Flotilla } from "./harness.js";

const sims = simulators();
let gw: Flotilla;
let s1: SimServer;
let s2: SimServer;
let s3: SimServer;
const alice = { id: "", key: "" };
const bob = { id: "", key: "" };
/** Tokens the simulators reported, per model, as the answers carried them. */
const reported: Record<string, { in: number; out: number }> = { "m1": { in: 0, out: 0 }, "m2": { in: 0, out: 0 } };

const nameOf = (s: SimServer) => new URL(s.url).host;

async function makeUser(username: string, into: { id: string; key: string }): Promise<void> {
  const created = await gw.admin("/api/users", { method: "POST", body: JSON.stringify({ username, password: "a long password" }) });
  into.id = ((await created.json()) as { user: { id: string } }).user.id;
  const made = await gw.admin(`/api/users/${into.id}/api-key`, { method: "POST", body: "{}" });
  into.key = ((await made.json()) as { key: string }).key;
}

let asked = 0;

/** Each request says something new: no two share a conversation, so affinity does not come into it. */
async function chat(key: string, model: string, headers: Record<string, string> = {}): Promise<Response> {
  const res = await fetch(`${gw.url}/api/chat`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json", ...headers },
    body: JSON.stringify({ model, stream: false, messages: [{ role: "user", content: `question ${asked++}` }] }),
  });
  const body = (await res.clone().json()) as { prompt_eval_count?: number; eval_count?: number };
  reported[model].in += body.prompt_eval_count ?? 0;
  reported[model].out += body.eval_count ?? 0;
  return res;
}

async function json<T>(path: string): Promise<T> {
  const res = await gw.admin(path);
  assert.equal(res.status, 200, `${path}: ${res.status}`);
  return (await res.json()) as T;
}

interface Row {
  id: string;
  key_id: string | null;
  user_id: string | null;
  source: string | null;
  model: string | null;
  server: string | null;
  status: number;
  retries: number;
  retry_reasons: string[];
  loaded: boolean | null;
  route: string | null;
  ttft_ms: number | null;
  tokens_in: number | null;
  tokens_out: number | null;
}

const rows = async (query = "") => (await json<{ requests: Row[]; next_cursor: string | null }>(`/api/requests?hours=1${query}`)).requests;

/**
 * 3 requests by alice's key to m1 (loaded on s1, the last one pinned there); 2 by bob's key to m2 from
 * service "batch": the first goes to s2 (m2 loaded), which fails once, and is
 * retried on s3, which must load m2 first; the second goes to s2 again.
 */
describe("operations: the audit log, usage and analytics of traffic through simulated servers", () => {
  before(async () => {
    s1 = await sims.start({ kind: "ollama", models: ["m1:latest"], loaded: ["m1:latest"] });
    s2 = await sims.start({ kind: "ollama", models: ["m2:latest"], loaded: ["m2:latest"] });
    s3 = await sims.start({ kind: "ollama", models: ["m2:latest"], coldLoadMs: 250 });
    s2.fail({ path: "/api/chat", status: 500, body: { error: "out of memory" }, times: 1 });
    const servers = [s1, s2, s3].map((s) => `  - name: ${nameOf(s)}\n    url: ${s.url}\n    kind: ollama\n`).join("");
    gw = await startFlotilla({ yaml: `servers:\n${servers}audit:\n  flush_interval_ms: 50\npoll:\n  interval_ms: 60000\n` });
    await makeUser("alice", alice);
    await makeUser("bob", bob);
    for (let i = 0; i < 2; i++) assert.equal((await chat(alice.key, "m1")).status, 200);
    assert.equal((await chat(alice.key, "m1", { "x-ollama-pin-server": nameOf(s1) })).status, 200);
    const retried = await chat(bob.key, "m2", { "x-ollama-source": "batch" });
    assert.equal(retried.headers.get("x-flotilla-server"), nameOf(s3));
    const again = await chat(bob.key, "m2", { "x-ollama-source": "batch" });
    assert.equal(again.headers.get("x-flotilla-server"), nameOf(s2));
    await waitFor("five audit rows", async () => (await rows()).length === 5);
  });

  after(async () => {
    await gw?.stop();
    await sims.closeAll();
  });

  test("each request is one row saying who, where, how it was routed and what it cost", async () => {
    const all = await rows();
    const [second, first] = all.filter((r) => r.model === "m2");
    assert.deepEqual(
      [first.user_id, first.source, first.server, first.status, first.retries, first.retry_reasons, first.loaded, first.route],
      [bob.id, "batch", nameOf(s3), 200, 1, ["upstream_error"], false, "best"],
    );
    assert.ok((first.ttft_ms ?? 0) >= 250, "the cold load's delay is in its time to first byte");
    assert.deepEqual([second.server, second.retries, second.loaded], [nameOf(s2), 0, true]);
    assert.ok(all.filter((r) => r.model === "m1").every((r) => r.user_id === alice.id && r.server === nameOf(s1) && r.loaded === true && r.source === null));
  });

  test("filters return exactly the rows they name", async () => {
    const count = async (query: string) => (await rows(query)).length;
    const aliceKey = (await rows(`&user=${alice.id}`))[0].key_id as string;
    assert.equal(await count(`&key=${aliceKey}`), 3);
    assert.equal(await count(`&user=${bob.id}`), 2);
    assert.equal(await count("&source=batch"), 2);
    assert.equal(await count("&model=m2"), 2);
    assert.equal(await count(`&server=${encodeURIComponent(nameOf(s3))}`), 1);
    assert.equal(await count("&status=200"), 5);
    assert.equal(await count("&status=500"), 0);
    assert.equal(await count(`&model=m1&user=${bob.id}`), 0);
  });

  test("pages of two with the cursor walk all five rows once, newest first", async () => {
    const seen: string[] = [];
    let cursor: string | null = "";
    while (cursor !== null) {
      const page: { requests: Row[]; next_cursor: string | null } = await json(`/api/requests?hours=1&limit=2${cursor ? `&cursor=${cursor}` : ""}`);
      seen.push(...page.requests.map((r) => r.id));
      cursor = page.next_cursor;
    }
    assert.deepEqual(seen, (await rows()).map((r) => r.id));
    assert.equal((await gw.admin("/api/requests?cursor=bm9wZQ")).status, 400);
  });

  test("usage sums exactly the tokens the simulators reported, per model, key, user and source", async () => {
    type Counts = { requests: number; tokens_in: number; tokens_out: number; errors: number };
    const usage = await json<{
      models: Array<Counts & { model: string; cold_loads: number; cold_ttft_ms_avg: number | null }>;
      keys: Array<Counts & { key_id: string }>;
      users: Array<Counts & { user_id: string }>;
      sources: Array<Counts & { source: string | null }>;
    }>("/api/usage?hours=1");
    const m1 = usage.models.find((m) => m.model === "m1")!;
    const m2 = usage.models.find((m) => m.model === "m2")!;
    assert.ok(reported.m1.out > 0);
    assert.deepEqual([m1.requests, m1.tokens_in, m1.tokens_out, m1.cold_loads], [3, reported.m1.in, reported.m1.out, 0]);
    assert.deepEqual([m2.requests, m2.tokens_in, m2.tokens_out, m2.cold_loads], [2, reported.m2.in, reported.m2.out, 1]);
    assert.ok((m2.cold_ttft_ms_avg ?? 0) >= 250);
    assert.deepEqual(usage.users.map((u) => [u.user_id, u.requests]), [[alice.id, 3], [bob.id, 2]]);
    assert.deepEqual(usage.sources.map((s) => [s.source, s.requests, s.tokens_out]), [[null, 3, reported.m1.out], ["batch", 2, reported.m2.out]]);
    assert.equal(usage.keys.length, 2);
  });

  test("analytics: 4 of 5 routed to a loaded model, one cold load, one retry for upstream_error; tokens per model over time", async () => {
    const a = await json<{
      totals: { requests: number; loaded_hits: number; cold_loads: number; loaded_hit_ratio: number; retries: number; retried_requests: number };
      routes: Record<string, number>;
      retry_reasons: Array<{ reason: string; count: number }>;
      nodes: Array<{ server: string; model: string; requests: number; loaded_hit_ratio: number; ttft_ms: { p50: number; p95: number } }>;
      buckets: Array<{ requests: number }>;
      bucket_seconds: number;
      model_buckets: Array<{ model: string; requests: number; tokens_in: number; tokens_out: number }>;
    }>("/api/analytics?hours=1");
    assert.deepEqual(a.totals, { ...a.totals, requests: 5, loaded_hits: 4, cold_loads: 1, loaded_hit_ratio: 0.8, retries: 1, retried_requests: 1 });
    assert.deepEqual(a.routes, { best: 4, pin: 1, affinity: 0, fallback: 0 });
    assert.deepEqual(a.retry_reasons, [{ reason: "upstream_error", count: 1 }]);
    const cold = a.nodes.find((n) => n.server === nameOf(s3))!;
    assert.deepEqual([cold.model, cold.requests, cold.loaded_hit_ratio], ["m2", 1, 0]);
    assert.ok(cold.ttft_ms.p50 >= 250);
    assert.equal(a.nodes.find((n) => n.server === nameOf(s1))?.requests, 3);
    assert.equal(a.bucket_seconds, 60);
    assert.equal(a.buckets.reduce((n, b) => n + b.requests, 0), 5);
    const perModel = (model: string) => a.model_buckets.filter((b) => b.model === model).reduce((n, b) => [n[0] + b.requests, n[1] + b.tokens_in, n[2] + b.tokens_out], [0, 0, 0]);
    assert.deepEqual(perModel("m1"), [3, reported.m1.in, reported.m1.out], "tokens per model over time add up to what the simulators reported");
    assert.deepEqual(perModel("m2"), [2, reported.m2.in, reported.m2.out]);
  });

  test("/metrics counts the routing, the queue waits, the tokens and the loaded models", async () => {
    const text = await (await gw.admin("/metrics")).text();
    const value = (series: string) => Number(new RegExp(`^${series.replace(/[{}|]/g, "\\$&")} (\\S+)$`, "m").exec(text)?.[1]);
    assert.equal(value('flotilla_routed_total{route="best",loaded="true"}'), 3);
    assert.equal(value('flotilla_routed_total{route="best",loaded="false"}'), 1);
    assert.equal(value('flotilla_routed_total{route="pin",loaded="true"}'), 1);
    assert.equal(value('flotilla_retries_total{reason="upstream_error"}'), 1);
    assert.equal(value('flotilla_queue_wait_seconds_count{model="m1"}'), 3);
    assert.equal(value('flotilla_request_duration_seconds_count{path="/api/chat",model="m2"}'), 2);
    assert.equal(value('flotilla_tokens_total{model="m2",direction="out"}'), reported.m2.out);
    assert.equal(value(`flotilla_model_loaded{server="${nameOf(s1)}",model="m1:latest"}`), 1);
    assert.equal(value(`flotilla_server_up{server="${nameOf(s3)}"}`), 1);
  });

  test("the operations views are an admin's: a user's key is refused", async () => {
    for (const path of ["/api/requests", "/api/usage", "/api/analytics"]) {
      const res = await fetch(gw.url + path, { headers: { authorization: `Bearer ${alice.key}` } });
      assert.equal(res.status, 403, path);
    }
  });
});

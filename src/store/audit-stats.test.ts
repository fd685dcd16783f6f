import assert from "node:assert/strict";
import type { RequestRow } from "./index.js";
import { forEachBackend } from "./test-backends.js";

const T0 = 1_700_000_000_000;

function row(i: number, overrides: Partial<RequestRow> = {}): RequestRow {
  return {
    id: `req_${String(i).padStart(4, "0")}`, time: T0 + i * 1000, key_id: "key_a", source: "svc", surface: "ollama", method: "POST", path: "/api/chat",
    model: "m1", server: "s1", status: 200, latency_ms: 10, ttft_ms: 5, tokens_in: 3, tokens_out: 7, retries: 0, error: null,
    user_id: "user_a", loaded: 1, route: "best", retry_reasons: null, queue_ms: 0, ...overrides,
  };
}

/** 3 by key A on m1/s1, 2 by key B on m2/s2 (one retried, one cold and failed), 1 with no server. */
const rows = [
  row(0),
  row(1, { latency_ms: 20, ttft_ms: 6 }),
  row(2, { latency_ms: 30, ttft_ms: 7, route: "pin" }),
  row(3, { key_id: "key_b", user_id: "user_b", source: null, model: "m2", server: "s2", retries: 1, retry_reasons: "upstream_error", route: "affinity", queue_ms: 4 }),
  row(4, { key_id: "key_b", user_id: "user_b", source: null, model: "m2", server: "s2", loaded: 0, ttft_ms: 900, latency_ms: 1000, status: 502, tokens_in: null, tokens_out: null }),
  row(5, { key_id: null, user_id: null, model: "m3", server: null, status: 404, loaded: null, route: null, ttft_ms: null, tokens_in: null, tokens_out: null }),
];

forEachBackend("the audit log filters by key, user, source, model, server and status, newest first", async (store) => {
  await store.audit.insertRequests(rows);
  const ids = async (q: object) => (await store.audit.listRequests({ sinceMs: 0, limit: 100, ...q })).map((r) => r.id.slice(-1)).join("");
  assert.equal(await ids({}), "543210");
  assert.equal(await ids({ keyId: "key_a" }), "210");
  assert.equal(await ids({ userId: "user_b" }), "43");
  assert.equal(await ids({ source: "svc" }), "5210");
  assert.equal(await ids({ model: "m2" }), "43");
  assert.equal(await ids({ server: "s1" }), "210");
  assert.equal(await ids({ status: 502 }), "4");
  assert.equal(await ids({ keyId: "key_b", status: 200 }), "3");
  assert.equal(await ids({ sinceMs: T0 + 4000 }), "54");
});

forEachBackend("paging with the last row of a page as cursor sees every row once, ties within a millisecond included", async (store) => {
  const same = Array.from({ length: 7 }, (_, i) => row(i, { time: T0, id: `req_tie_${i}` }));
  await store.audit.insertRequests([...rows, ...same]);
  const seen: string[] = [];
  let before: { time: number; id: string } | undefined;
  for (;;) {
    const page = await store.audit.listRequests({ sinceMs: 0, limit: 3, before });
    seen.push(...page.map((r) => r.id));
    if (page.length < 3) break;
    before = { time: page[2].time, id: page[2].id };
  }
  assert.equal(seen.length, 13);
  assert.equal(new Set(seen).size, 13);
});

forEachBackend("usage sums requests, tokens, errors, busy time and cold loads per model, key, user and source", async (store) => {
  await store.audit.insertRequests(rows);
  const models = await store.audit.usageBy("model", 0);
  assert.deepEqual(
    models.map((g) => [g.name, g.requests, g.errors, g.tokens_in, g.tokens_out, g.busy_ms, g.cold_loads, g.cold_ttft_ms_avg]),
    [["m1", 3, 0, 9, 21, 60, 0, null], ["m2", 2, 1, 3, 7, 1010, 1, 900], ["m3", 1, 1, 0, 0, 10, 0, null]],
  );
  assert.deepEqual(models[0].first_time, T0);
  assert.deepEqual(models[0].last_time, T0 + 2000);
  assert.deepEqual((await store.audit.usageBy("key_id", 0)).map((g) => [g.name, g.requests]), [["key_a", 3], ["key_b", 2], [null, 1]]);
  assert.deepEqual((await store.audit.usageBy("user_id", T0 + 3000)).map((g) => [g.name, g.requests]), [["user_b", 2], [null, 1]]);
  assert.deepEqual((await store.audit.usageBy("source", 0)).map((g) => [g.name, g.tokens_out]), [["svc", 21], [null, 7]]);
});

forEachBackend("analytics: time buckets, tokens per model and bucket, route rules, retry reasons, per node counts and nearest-rank percentiles", async (store) => {
  await store.audit.insertRequests(rows);
  const buckets = await store.audit.analyticsBuckets(0, 3000);
  const first = Math.floor(T0 / 3000);
  assert.deepEqual(
    buckets.map((b) => [b.bucket - first, b.requests, b.errors, b.loaded_hits, b.cold_loads, b.retries, b.retried, b.latency_ms_sum, b.ttft_count, b.queue_ms_sum]),
    [[0, 1, 0, 1, 0, 0, 0, 10, 1, 0], [1, 3, 0, 3, 0, 1, 1, 60, 3, 4], [2, 2, 2, 0, 1, 0, 0, 1010, 1, 0]],
  );
  assert.deepEqual(
    (await store.audit.modelBuckets(0, 3000)).map((b) => [b.bucket - first, b.model, b.requests, b.tokens_in, b.tokens_out]),
    [[0, "m1", 1, 3, 7], [1, "m1", 2, 6, 14], [1, "m2", 1, 3, 7], [2, "m2", 1, 0, 0], [2, "m3", 1, 0, 0]],
    "per model and bucket, a row without tokens counting none",
  );
  assert.deepEqual(await store.audit.routeCounts(0), [{ route: "best", requests: 3 }, { route: "affinity", requests: 1 }, { route: "pin", requests: 1 }]);
  assert.deepEqual(await store.audit.retryReasons(0), [{ reasons: "upstream_error", requests: 1 }]);
  assert.deepEqual(
    (await store.audit.nodeModels(0)).map((n) => [n.server, n.model, n.requests, n.errors, n.loaded_hits, n.cold_loads]),
    [["s1", "m1", 3, 0, 3, 0], ["s2", "m2", 2, 1, 1, 1]],
  );
  assert.deepEqual(await store.audit.percentiles("latency_ms", 0), [
    { server: "s1", model: "m1", p50: 20, p95: 30 },
    { server: "s2", model: "m2", p50: 10, p95: 1000 },
  ]);
  assert.deepEqual((await store.audit.percentiles("ttft_ms", T0 + 1000)).map((p) => [p.server, p.p50, p.p95]), [["s1", 6, 7], ["s2", 5, 900]]);
});

forEachBackend("pruning deletes only rows older than the cut, in batches of the size asked", async (store) => {
  await store.audit.insertRequests(rows);
  assert.equal(await store.audit.pruneRequests(T0 + 3000, 2), 2);
  assert.equal(await store.audit.pruneRequests(T0 + 3000, 2), 1);
  assert.equal(await store.audit.pruneRequests(T0 + 3000, 2), 0, "pruning again finds nothing: the delete is idempotent");
  assert.deepEqual((await store.audit.listRequests({ sinceMs: 0, limit: 10 })).map((r) => r.id.slice(-1)).join(""), "543");
});

import assert from "node:assert/strict";
import { test } from "node:test";
import { sql } from "kysely";
import type { RequestRow } from "./index.js";
import { forEachBackend } from "./test-backends.js";

const DAY = 86_400_000;

function requestRow(i: number, overrides: Partial<RequestRow> = {}): RequestRow {
  return {
    id: `req_${String(i).padStart(5, "0")}`,
    time: 1_700_000_000_000 + i,
    key_id: i % 2 ? "key_a" : "key_b",
    source: null,
    surface: "openai",
    method: "POST",
    path: "/v1/chat/completions",
    model: i % 3 ? "llama3:latest" : "qwen:latest",
    server: "gpu1",
    status: 200,
    latency_ms: 12.5,
    ttft_ms: 3.25,
    tokens_in: 10,
    tokens_out: 20,
    retries: 0,
    error: null,
    ...overrides,
  };
}

test("the store behaves the same on every backend", async (t) => {
  await forEachBackend(t, async (backend, t) => {
    const store = await backend.open();
    try {
      await t.test(`${backend.name}: migrations are idempotent on reopen`, async () => {
        const again = await backend.open();
        await again.close();
      });

      await t.test(`${backend.name}: server upsert keeps created_at and updates the rest`, async () => {
        await store.servers.upsert({ name: "gpu1", url: "http://a:1", kind: "ollama", api_key: null, max_concurrency: 4, vram_bytes: 25e9, drained: false, source: "config" });
        const first = await store.servers.get("gpu1");
        await new Promise((r) => setTimeout(r, 5));
        await store.servers.upsert({ name: "gpu1", url: "http://b:2", kind: null, api_key: "sk", max_concurrency: null, vram_bytes: null, drained: true, source: "api" });
        const second = await store.servers.get("gpu1");
        assert.equal(second?.created_at, first?.created_at);
        assert.ok((second?.updated_at ?? 0) > (first?.updated_at ?? 0));
        assert.equal(second?.url, "http://b:2");
        assert.equal(second?.drained, 1);
        assert.equal(typeof first?.vram_bytes, "number", "bigint columns come back as numbers");
        assert.equal(first?.vram_bytes, 25e9);
        await store.servers.setDrained("gpu1", false);
        assert.equal((await store.servers.get("gpu1"))?.drained, 0);
        assert.equal(await store.servers.remove("gpu1"), true);
        assert.equal(await store.servers.remove("gpu1"), false);
        assert.deepEqual(await store.servers.list(), []);
      });

      await t.test(`${backend.name}: api keys are found by hash, touched and revoked`, async () => {
        const row = { id: "k1", name: "admin", prefix: "flt_abcdefgh", hash: "a".repeat(64), role: "admin", scopes: "[]", created_at: Date.now(), expires_at: null, last_used_at: null, revoked_at: null };
        await store.apiKeys.insert(row);
        await assert.rejects(store.apiKeys.insert({ ...row, id: "k2" }), "the hash is unique");
        assert.equal((await store.apiKeys.findByHash("a".repeat(64)))?.id, "k1");
        assert.equal(await store.apiKeys.findByHash("b".repeat(64)), undefined);
        await store.apiKeys.touch(["k1"], 1_700_000_000_123);
        await store.apiKeys.revoke("k1");
        const [stored] = await store.apiKeys.list();
        assert.equal(stored.last_used_at, 1_700_000_000_123);
        assert.equal(typeof stored.revoked_at, "number");
      });

      await t.test(`${backend.name}: audit rows land in batches and filter newest first`, async () => {
        const rows = Array.from({ length: 1200 }, (_, i) => requestRow(i));
        await store.audit.write(rows, [{ day: "2023-11-14", model: "llama3:latest", key_id: "key_a", requests: 3, tokens_in: 30, tokens_out: 60, errors: 1 }]);
        const all = await store.audit.listRequests({ sinceMs: 0, limit: 5000 });
        assert.equal(all.length, 1200);
        assert.equal(all[0].id, "req_01199");
        const byKey = await store.audit.listRequests({ sinceMs: 0, keyId: "key_a", model: "qwen:latest", limit: 5000 });
        assert.ok(byKey.length > 0 && byKey.every((r) => r.key_id === "key_a" && r.model === "qwen:latest"));
        const recent = await store.audit.listRequests({ sinceMs: 1_700_000_000_000 + 1190, limit: 100 });
        assert.equal(recent.length, 10);
        assert.equal(recent[0].latency_ms, 12.5);
        assert.equal(recent[0].ttft_ms, 3.25);
        await store.audit.write([requestRow(0)], []);
        assert.equal((await store.audit.listRequests({ sinceMs: 0, limit: 5000 })).length, 1200, "a repeated id is not written twice");
      });

      await t.test(`${backend.name}: usage upserts add up across writes`, async () => {
        await store.audit.write([], [{ day: "2023-11-14", model: "llama3:latest", key_id: "key_a", requests: 2, tokens_in: 5, tokens_out: 7, errors: 0 }]);
        const usage = await store.audit.usage({ sinceDay: "2023-11-01", keyId: "key_a" });
        assert.deepEqual(usage, [{ day: "2023-11-14", model: "llama3:latest", key_id: "key_a", requests: 5, tokens_in: 35, tokens_out: 67, errors: 1 }]);
        assert.deepEqual(await store.audit.usage({ sinceDay: new Date(Date.now() + DAY).toISOString().slice(0, 10) }), []);
      });

      await t.test(`${backend.name}: the audit indexes exist from the first migration`, async () => {
        const names =
          store.dialect === "sqlite"
            ? (await sql<{ name: string }>`select name from sqlite_master where type = 'index' and tbl_name = 'requests'`.execute(store.db)).rows
            : (await sql<{ name: string }>`select indexname as name from pg_indexes where tablename = 'requests' and schemaname = current_schema()`.execute(store.db)).rows;
        const found = names.map((r) => r.name);
        for (const index of ["requests_key_time", "requests_model_time", "requests_time"]) assert.ok(found.includes(index), `${index} in ${found}`);
      });
    } finally {
      await store.close();
    }
  });
});

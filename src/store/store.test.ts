import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { type KyselyPlugin, type RootOperationNode, InsertQueryNode, sql, ValuesNode } from "kysely";
import { auditRepo } from "./audit-repo.js";
import { openStore, type ApiKeyRow, type RequestRow, type ServerInput, type Store } from "./index.js";
import { forEachBackend, TEST_DATABASE_URL } from "./test-backends.js";

// The storage contract: every case runs against SQLite and PostgreSQL alike.

const T0 = 1_700_000_000_000; // 2023-11-14T22:13:20Z

function requestRow(i: number, overrides: Partial<RequestRow> = {}): RequestRow {
  return {
    id: `req_${String(i).padStart(5, "0")}`,
    time: T0 + i,
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
    user_id: i % 2 ? "user_a" : null,
    loaded: i % 5 ? 1 : 0,
    route: "best",
    retry_reasons: null,
    queue_ms: 0.5,
    ...overrides,
  };
}

const gpu1: ServerInput = { name: "gpu1", url: "http://a:1", kind: "ollama", api_key: null, max_concurrency: 4, vram_bytes: 25e9, drained: false, source: "config", node_exporter_url: null };

function apiKey(id: string, hash: string): ApiKeyRow {
  return { id, name: id, prefix: "flt_abcdefgh", hash, role: "user", scopes: '["inference"]', created_at: T0, expires_at: null, last_used_at: null, revoked_at: null, user_id: null, daily_token_budget: null };
}

/** Counts the rows of each INSERT INTO requests that passes through. */
function insertCounter(): KyselyPlugin & { batches: number[] } {
  const batches: number[] = [];
  return {
    batches,
    transformQuery({ node }) {
      if (InsertQueryNode.is(node) && node.into?.table.identifier.name === "requests" && node.values && ValuesNode.is(node.values)) {
        batches.push(node.values.values.length);
      }
      return node as RootOperationNode;
    },
    transformResult: async ({ result }) => result,
  };
}

async function indexColumns(store: Store): Promise<Map<string, string>> {
  if (store.dialect === "sqlite") {
    const { rows } = await sql<{ name: string; columns: string }>`
      select m.name, group_concat(i.name, ', ') as columns
      from sqlite_master m, pragma_index_info(m.name) i
      where m.type = 'index' and m.tbl_name = 'requests' group by m.name`.execute(store.db);
    return new Map(rows.map((r) => [r.name, r.columns]));
  }
  const { rows } = await sql<{ name: string; def: string }>`
    select indexname as name, indexdef as def from pg_indexes
    where tablename = 'requests' and schemaname = current_schema()`.execute(store.db);
  return new Map(rows.map((r) => [r.name, /\((.*)\)/.exec(r.def)?.[1]?.replaceAll('"', "") ?? ""]));
}

forEachBackend("migrations run once: reopening finds the schema and the data as they were", async (store, backend) => {
  await store.servers.upsert(gpu1);
  const again = await backend.open();
  try {
    assert.equal((await again.servers.get("gpu1"))?.url, "http://a:1");
    const { rows } = await sql<{ name: string }>`select name from kysely_migration`.execute(again.db);
    assert.deepEqual(rows.map((r) => r.name), ["001_initial", "002_accounts", "003_tokens", "004_events", "005_tasks", "006_task_claims", "007_mcp_tools", "008_webhooks", "009_responses", "010_background_responses", "011_conversations", "012_model_catalogs", "013_media", "014_request_routing", "015_scheduled_jobs", "016_notifications", "017_request_rollups"]);
  } finally {
    await again.close();
  }
  await store.close();
  await store.close(); // closing twice is harmless
});

forEachBackend("a new PostgreSQL schema migrates while another schema of the database already holds Flotilla's tables", async (store, backend) => {
  if (backend.name !== "postgres") return; // SQLite has no schemas
  // The store under test is one such schema; the migrator must create its tables in the new one all the same.
  const schema = `flotilla_test_${Date.now().toString(36)}`;
  await sql`create schema ${sql.id(schema)}`.execute(store.db);
  const dir = mkdtempSync(join(tmpdir(), "flotilla-store-"));
  try {
    const other = await openStore({ dataDir: dir, databaseUrl: TEST_DATABASE_URL, schema });
    try {
      const applied = (db: Store["db"]) => sql<{ name: string }>`select name from kysely_migration order by name`.execute(db).then((r) => r.rows.map((row) => row.name));
      assert.deepEqual(await applied(other.db), await applied(store.db));
      assert.equal(await other.servers.get("gpu1"), undefined);
    } finally {
      await other.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await sql`drop schema ${sql.id(schema)} cascade`.execute(store.db);
  }
});

forEachBackend("an MCP tool's settings: the first change creates them, later ones change only what they name, null clears", async (store, _backend, t) => {
  t.mock.timers.enable({ apis: ["Date"], now: T0 });
  assert.equal(await store.mcpTools.get("laptop__echo"), undefined);
  const first = await store.mcpTools.change("laptop__echo", { is_active: false, disallowed_keywords: ["(?i)secret"], max_result_bytes: 5e9 });
  assert.deepEqual(first, {
    tool_key: "laptop__echo", description: null, category: null, is_active: false, metadata: null, disallowed_keywords: ["(?i)secret"], max_result_bytes: 5e9, created_at: T0, updated_at: T0,
  });
  t.mock.timers.tick(1000);
  const second = await store.mcpTools.change("laptop__echo", { description: "Says it back", metadata: { owner: "ops" }, max_result_bytes: null });
  assert.deepEqual(second, { ...first, description: "Says it back", metadata: { owner: "ops" }, max_result_bytes: null, updated_at: T0 + 1000 });
  await store.mcpTools.change("web__search", { is_active: true });
  assert.deepEqual((await store.mcpTools.all()).map((r) => [r.tool_key, r.is_active]), [["laptop__echo", false], ["web__search", true]]);
});

forEachBackend("a key's MCP access is a tool set or its own patterns, replaced whole and removed once", async (store) => {
  assert.equal(await store.mcpKeyAccess.get("key_a"), undefined);
  await store.mcpKeyAccess.set("key_a", { tool_set: "research" });
  assert.deepEqual(await store.mcpKeyAccess.get("key_a"), { tool_set: "research" });
  await store.mcpKeyAccess.set("key_a", { tools: ["laptop__*", "web__search"] });
  assert.deepEqual(await store.mcpKeyAccess.get("key_a"), { tools: ["laptop__*", "web__search"] });
  assert.equal(await store.mcpKeyAccess.remove("key_a"), true);
  assert.equal(await store.mcpKeyAccess.remove("key_a"), false);
  assert.equal(await store.mcpKeyAccess.get("key_a"), undefined);
});

forEachBackend("webhooks by owner; a due delivery is claimed by one caller only, and leaves the log with its webhook", async (store) => {
  const hook = { id: "wh_1", owner: "user_a", url: "https://example.com/h", events: '["*"]', secret: "whsec_x", description: null, enabled: 1, created_at: T0, updated_at: T0 };
  await store.webhooks.insert(hook);
  await store.webhooks.insert({ ...hook, id: "wh_2", owner: "user_b" });
  assert.deepEqual((await store.webhooks.listForOwner("user_a")).map((w) => w.id), ["wh_1"]);
  await store.webhooks.change("wh_1", { enabled: 0 });
  assert.equal((await store.webhooks.get("wh_1"))?.enabled, 0);
  const delivery = {
    id: "whd_1", webhook_id: "wh_1", event_id: "evt_1", event_type: "webhook.test", payload: "{}", status: "pending" as const, attempts: 0, last_status: null, last_error: null, next_attempt_at: T0, created_at: T0, updated_at: T0,
  };
  await store.webhooks.insertDelivery(delivery);
  assert.deepEqual((await store.webhooks.due(T0, 10)).map((d) => d.id), ["whd_1"]);
  assert.deepEqual((await store.webhooks.due(T0 - 1, 10)).map((d) => d.id), []);
  const claims = await Promise.all([store.webhooks.claim("whd_1", T0, T0 + 100), store.webhooks.claim("whd_1", T0, T0 + 100)]);
  assert.deepEqual(claims.sort(), [false, true]);
  await store.webhooks.recordAttempt("whd_1", { status: "failed", attempts: 3, last_status: 500, last_error: "answered 500", next_attempt_at: null });
  assert.deepEqual(await store.webhooks.getDelivery("whd_1"), { ...delivery, status: "failed", attempts: 3, last_status: 500, last_error: "answered 500", next_attempt_at: null, updated_at: (await store.webhooks.getDelivery("whd_1"))?.updated_at });
  assert.deepEqual((await store.webhooks.due(T0 + 1e6, 10)).map((d) => d.id), [], "a failed delivery is never due");
  assert.equal(await store.webhooks.remove("wh_1"), true);
  assert.equal(await store.webhooks.getDelivery("whd_1"), undefined);
  assert.equal(await store.webhooks.remove("wh_1"), false);
});

forEachBackend("a stored response is written, replaced as it moves on, read back and removed once", async (store) => {
  const row = { id: "resp_1", owner: "user_a", status: "in_progress", response: '{"id":"resp_1"}', history: "[]", request: null, background: 0, task_id: null, event_count: 0, created_at: T0, updated_at: T0 };
  await store.responses.put(row);
  await store.responses.put({ ...row, status: "completed", response: '{"id":"resp_1","status":"completed"}', history: '[{"role":"user","content":"hi"}]', updated_at: T0 + 5 });
  assert.deepEqual(await store.responses.get("resp_1"), { ...row, status: "completed", response: '{"id":"resp_1","status":"completed"}', history: '[{"role":"user","content":"hi"}]', updated_at: T0 + 5 });
  assert.equal(await store.responses.remove("resp_1"), true);
  assert.equal(await store.responses.remove("resp_1"), false);
  assert.equal(await store.responses.get("resp_1"), undefined);
});

forEachBackend("a server upsert replaces every field but created_at", async (store, _backend, t) => {
  t.mock.timers.enable({ apis: ["Date"], now: T0 });
  await store.servers.upsert(gpu1);
  t.mock.timers.tick(5000);
  await store.servers.upsert({ name: "gpu1", url: "http://b:2", kind: null, api_key: "sk-upstream", max_concurrency: null, vram_bytes: null, drained: true, source: "api", node_exporter_url: "http://b:9100/metrics" });
  assert.deepEqual(await store.servers.get("gpu1"), {
    name: "gpu1", url: "http://b:2", kind: null, api_key: "sk-upstream", max_concurrency: null, vram_bytes: null, drained: 1, source: "api", created_at: T0, updated_at: T0 + 5000, node_exporter_url: "http://b:9100/metrics",
  });
  t.mock.timers.tick(1000);
  assert.equal(await store.servers.setDrained("gpu1", false), true);
  assert.deepEqual(await store.servers.get("gpu1"), {
    name: "gpu1", url: "http://b:2", kind: null, api_key: "sk-upstream", max_concurrency: null, vram_bytes: null, drained: 0, source: "api", created_at: T0, updated_at: T0 + 6000, node_exporter_url: "http://b:9100/metrics",
  });
  assert.equal(await store.servers.setDrained("nobody", true), false);
});

forEachBackend("servers are listed by name, read back with their types, and removed once", async (store) => {
  await store.servers.upsert({ ...gpu1, name: "zeta" });
  await store.servers.upsert(gpu1);
  const [first] = await store.servers.list();
  assert.deepEqual((await store.servers.list()).map((s) => s.name), ["gpu1", "zeta"]);
  assert.equal(first.vram_bytes, 25e9, "bigint columns come back as numbers");
  assert.equal(typeof first.created_at, "number");
  assert.equal(first.drained, 0);
  assert.equal(await store.servers.get("nobody"), undefined);
  assert.equal(await store.servers.remove("gpu1"), true);
  assert.equal(await store.servers.remove("gpu1"), false);
  assert.deepEqual((await store.servers.list()).map((s) => s.name), ["zeta"]);
});

forEachBackend("a server's api_key is replaced only while it is still what the caller read", async (store) => {
  await store.servers.upsert({ ...gpu1, api_key: "sk-plain" });
  assert.equal(await store.servers.replaceApiKey("gpu1", "sk-other", "enc:v1:x"), false);
  assert.equal(await store.servers.replaceApiKey("gpu1", "sk-plain", "enc:v1:x"), true);
  assert.equal(await store.servers.replaceApiKey("gpu1", "sk-plain", "enc:v1:y"), false, "a second replica finds it replaced");
  assert.equal((await store.servers.get("gpu1"))?.api_key, "enc:v1:x");
});

forEachBackend("webhook secrets without a prefix are found, and each is replaced only while it is still what was read", async (store) => {
  const hook = { owner: "user_a", url: "https://example.com/h", events: '["*"]', description: null, enabled: 1, created_at: T0, updated_at: T0 };
  await store.webhooks.insert({ ...hook, id: "wh_1", secret: "whsec_plain" });
  await store.webhooks.insert({ ...hook, id: "wh_2", secret: "enc:v1:sealed" });
  await store.webhooks.insert({ ...hook, id: "wh_3", secret: "ENC:V1:upper-case-is-not-the-prefix" });
  assert.deepEqual(await store.webhooks.secretsWithout("enc:v1:"), [{ id: "wh_1", secret: "whsec_plain" }, { id: "wh_3", secret: "ENC:V1:upper-case-is-not-the-prefix" }]);
  assert.equal(await store.webhooks.replaceSecret("wh_1", "whsec_plain", "enc:v1:a"), true);
  assert.equal(await store.webhooks.replaceSecret("wh_1", "whsec_plain", "enc:v1:b"), false);
  assert.equal((await store.webhooks.get("wh_1"))?.secret, "enc:v1:a");
});

forEachBackend("api keys are found by hash, touched in a batch and revoked once", async (store, _backend, t) => {
  await store.apiKeys.insert(apiKey("k1", "a".repeat(64)));
  await store.apiKeys.insert(apiKey("k2", "b".repeat(64)));
  await assert.rejects(store.apiKeys.insert(apiKey("k3", "a".repeat(64))), "the hash is unique");
  assert.deepEqual(await store.apiKeys.findByHash("a".repeat(64)), apiKey("k1", "a".repeat(64)));
  assert.equal(await store.apiKeys.findByHash("c".repeat(64)), undefined);

  await store.apiKeys.touch(["k1", "k2", "gone"], T0 + 123);
  await store.apiKeys.touch([], T0 + 999);
  assert.deepEqual((await store.apiKeys.list()).map((k) => [k.id, k.last_used_at]), [["k1", T0 + 123], ["k2", T0 + 123]]);

  t.mock.timers.enable({ apis: ["Date"], now: T0 + 1000 });
  assert.equal(await store.apiKeys.revoke("k1"), true);
  t.mock.timers.tick(1000);
  assert.equal(await store.apiKeys.revoke("k1"), false, "already revoked");
  assert.equal(await store.apiKeys.revoke("nobody"), false);
  assert.equal((await store.apiKeys.findByHash("a".repeat(64)))?.revoked_at, T0 + 1000, "the first revocation time stays");
  assert.equal((await store.apiKeys.findByHash("b".repeat(64)))?.revoked_at, null);
});

forEachBackend("1,200 audit rows land in 3 inserts and list newest first, by key, model and time", async (store) => {
  const counter = insertCounter();
  await auditRepo(store.db.withPlugin(counter), store.dialect).insertRequests(Array.from({ length: 1200 }, (_, i) => requestRow(i)));
  assert.deepEqual(counter.batches, [500, 500, 200]);

  const all = await store.audit.listRequests({ sinceMs: 0, limit: 5000 });
  assert.equal(all.length, 1200);
  assert.deepEqual(all.slice(0, 2).map((r) => r.id), ["req_01199", "req_01198"]);
  assert.deepEqual(all[0], requestRow(1199), "every column round-trips, times and fractions as numbers");

  const mine = await store.audit.listRequests({ sinceMs: 0, keyId: "key_a", model: "qwen:latest", limit: 5000 });
  assert.equal(mine.length, 200, "odd i divisible by 3");
  assert.ok(mine.every((r) => r.key_id === "key_a" && r.model === "qwen:latest"));
  assert.ok(mine.every((r, i) => i === 0 || mine[i - 1].time > r.time), "newest first");

  const recent = await store.audit.listRequests({ sinceMs: T0 + 1190, limit: 100 });
  assert.deepEqual(recent.map((r) => r.time), Array.from({ length: 10 }, (_, i) => T0 + 1199 - i));
  assert.equal((await store.audit.listRequests({ sinceMs: 0, limit: 7 })).length, 7);
  assert.equal((await store.audit.listRequests({ sinceMs: 0, model: "nope", limit: 7 })).length, 0);
});

forEachBackend("an audit write is one transaction: a bad row leaves neither requests nor usage", async (store) => {
  const rows = Array.from({ length: 600 }, (_, i) => requestRow(i));
  rows[550] = { ...rows[550], surface: null as never };
  const usage = [{ day: "2023-11-14", model: "m", key_id: "k", requests: 600, tokens_in: 1, tokens_out: 1, errors: 0 }];
  await assert.rejects(store.audit.insertRequests(rows, usage));
  assert.equal((await store.audit.listRequests({ sinceMs: 0, limit: 5000 })).length, 0);
  assert.deepEqual(await store.audit.usage({ sinceDay: "2023-01-01" }), []);
});

forEachBackend("a request id already stored is skipped, not failed", async (store) => {
  await store.audit.insertRequests([requestRow(1)]);
  await store.audit.insertRequests([requestRow(1, { status: 500 }), requestRow(2)]);
  assert.deepEqual((await store.audit.listRequests({ sinceMs: 0, limit: 10 })).map((r) => [r.id, r.status]), [["req_00002", 200], ["req_00001", 200]]);
});

forEachBackend("usage upserts add up across writes, and within one", async (store) => {
  const day = (d: string, model: string, keyId: string, n: number) => ({ day: d, model, key_id: keyId, requests: n, tokens_in: 10 * n, tokens_out: 20 * n, errors: n - 1 });
  await store.audit.insertRequests([requestRow(1)], [day("2023-11-14", "llama3:latest", "key_a", 3), day("2023-11-14", "", "", 1)]);
  await store.audit.insertRequests([], [day("2023-11-14", "llama3:latest", "key_a", 2)]);
  await store.audit.addUsage([day("2023-11-15", "llama3:latest", "key_a", 1), day("2023-11-15", "llama3:latest", "key_a", 4)]);

  assert.deepEqual(await store.audit.usage({ sinceDay: "2023-11-01", keyId: "key_a" }), [
    { day: "2023-11-14", model: "llama3:latest", key_id: "key_a", requests: 5, tokens_in: 50, tokens_out: 100, errors: 3 },
    { day: "2023-11-15", model: "llama3:latest", key_id: "key_a", requests: 5, tokens_in: 50, tokens_out: 100, errors: 3 },
  ]);
  assert.deepEqual((await store.audit.usage({ sinceDay: "2023-11-15" })).map((u) => u.day), ["2023-11-15"]);
  assert.deepEqual((await store.audit.usage({ sinceDay: "2023-01-01", model: "" })).map((u) => [u.key_id, u.requests]), [["", 1]]);
});

forEachBackend("bigint values and their sums come back as JS numbers", async (store) => {
  const big = 2 ** 40 + 1;
  await store.audit.addUsage([{ day: "2024-01-01", model: "m", key_id: "k", requests: 1, tokens_in: big, tokens_out: big, errors: 0 }]);
  await store.audit.addUsage([{ day: "2024-01-02", model: "m", key_id: "k", requests: 1, tokens_in: big, tokens_out: 0, errors: 0 }]);
  const [first] = await store.audit.usage({ sinceDay: "2024-01-01" });
  assert.equal(first.tokens_in, big);
  const totals = await store.db
    .selectFrom("usage_daily")
    .select((eb) => [eb.fn.sum<number>("tokens_in").as("tokens"), eb.fn.countAll<number>().as("days")])
    .executeTakeFirstOrThrow();
  assert.deepEqual(totals, { tokens: 2 * big, days: 2 });
});

forEachBackend("the audit indexes exist from the first migration", async (store) => {
  const indexes = await indexColumns(store);
  assert.equal(indexes.get("requests_key_time"), "key_id, time");
  assert.equal(indexes.get("requests_model_time"), "model, time");
  assert.equal(indexes.get("requests_time"), "time");
});

test("SQLite runs in WAL mode with synchronous NORMAL, a busy timeout and foreign keys", async () => {
  const dir = mkdtempSync(join(tmpdir(), "flotilla-sqlite-"));
  const store = await openStore({ dataDir: dir });
  try {
    const pragma = async (name: string) => Object.values((await sql.raw(`pragma ${name}`).execute(store.db)).rows[0] as object)[0];
    assert.equal(await pragma("journal_mode"), "wal");
    assert.equal(await pragma("synchronous"), 1);
    assert.equal(await pragma("busy_timeout"), 5000);
    assert.equal(await pragma("foreign_keys"), 1);
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

import assert from "node:assert/strict";
import { test } from "node:test";
import { setImmediate as tick } from "node:timers/promises";
import type { RequestRow, UsageRow } from "../store/index.js";
import { forEachBackend } from "../store/test-backends.js";
import { AuditWriter } from "./audit.js";

const JAN_2 = Date.UTC(2026, 0, 2, 3);

function row(i: number, overrides: Partial<RequestRow> = {}): RequestRow {
  return {
    id: `req_${i}`, time: JAN_2 + i, key_id: "k", source: "svc", surface: "ollama", method: "POST", path: "/api/chat",
    model: "m", server: "s", status: 200, latency_ms: 1, ttft_ms: null, tokens_in: 2, tokens_out: 3, retries: 0, error: null,
    user_id: null, loaded: 1, route: "best", retry_reasons: null, queue_ms: 0,
    ...overrides,
  };
}

/** A store whose writes are recorded, and fail while `failing` is set. */
function fakeStore() {
  const batches: Array<{ rows: RequestRow[]; usage: UsageRow[] }> = [];
  const fake = {
    batches,
    failing: false,
    calls: 0,
    audit: {
      async insertRequests(rows: RequestRow[], usage: UsageRow[] = []) {
        fake.calls++;
        if (fake.failing) throw new Error("database away");
        batches.push({ rows, usage });
      },
    },
  };
  return fake;
}

const quiet = { flushIntervalMs: 60_000, batchSize: 1000 };

forEachBackend("the audit writer writes nothing before a flush, then every row and the day's usage", async (store) => {
  const writer = new AuditWriter(store, quiet);
  for (let i = 0; i < 10; i++) writer.record(row(i, i === 9 ? { status: 502, error: "upstream failed" } : {}));
  writer.record(row(10, { model: null, key_id: null, tokens_in: null, tokens_out: null }));
  assert.equal((await store.audit.listRequests({ sinceMs: 0, limit: 100 })).length, 0, "nothing is written before a flush");
  await writer.close();
  assert.equal((await store.audit.listRequests({ sinceMs: 0, limit: 100 })).length, 11);
  assert.deepEqual(await store.audit.usage({ sinceDay: "2026-01-01" }), [
    { day: "2026-01-02", model: "", key_id: "", requests: 1, tokens_in: 0, tokens_out: 0, errors: 0 },
    { day: "2026-01-02", model: "m", key_id: "k", requests: 10, tokens_in: 20, tokens_out: 30, errors: 1 },
  ]);
});

forEachBackend("the audit writer's usage adds up across flushes and days", async (store) => {
  const writer = new AuditWriter(store, quiet);
  for (let i = 0; i < 3; i++) writer.record(row(i));
  await writer.flush();
  writer.record(row(3));
  writer.record(row(4, { time: Date.UTC(2026, 0, 3) }));
  await writer.close();
  const usage = await store.audit.usage({ sinceDay: "2026-01-01" });
  assert.deepEqual(usage.map((u) => [u.day, u.requests, u.tokens_out]), [["2026-01-02", 4, 12], ["2026-01-03", 1, 3]]);
});

test("reaching the batch size flushes without waiting for the timer", async () => {
  const store = fakeStore();
  const writer = new AuditWriter(store, { flushIntervalMs: 60_000, batchSize: 3 });
  writer.record(row(1));
  writer.record(row(2));
  await tick();
  assert.equal(store.calls, 0);
  writer.record(row(3));
  await tick();
  assert.deepEqual(store.batches.map((b) => b.rows.length), [3]);
  await writer.close();
});

test("the timer flushes what was recorded", async (t) => {
  t.mock.timers.enable({ apis: ["setInterval"] });
  const store = fakeStore();
  const writer = new AuditWriter(store, { flushIntervalMs: 1000, batchSize: 100 });
  writer.record(row(1));
  t.mock.timers.tick(999);
  await tick();
  assert.equal(store.calls, 0);
  t.mock.timers.tick(1);
  await tick();
  assert.deepEqual(store.batches.map((b) => b.rows.map((r) => r.id)), [["req_1"]]);
  await writer.close();
});

test("flushes never overlap: rows recorded during one go into the next", async () => {
  let release!: () => void;
  let active = 0;
  let most = 0;
  const written: string[][] = [];
  const store = {
    audit: {
      async insertRequests(rows: RequestRow[]) {
        most = Math.max(most, ++active);
        if (written.length === 0) await new Promise<void>((resolve) => (release = resolve));
        written.push(rows.map((r) => r.id));
        active--;
      },
    },
  };
  const writer = new AuditWriter(store, quiet);
  writer.record(row(1));
  const first = writer.flush();
  writer.record(row(2));
  const second = writer.flush();
  writer.record(row(3));
  const third = writer.flush();
  release();
  await Promise.all([first, second, third]);
  assert.equal(most, 1);
  assert.deepEqual(written, [["req_1"], ["req_2", "req_3"]]);
  await writer.close();
});

test("a failed flush reports, keeps its rows and usage, and the next one writes them in order", async () => {
  const store = fakeStore();
  store.failing = true;
  const errors: unknown[] = [];
  const writer = new AuditWriter(store, { flushIntervalMs: 60_000, batchSize: 2, onError: (e) => errors.push(e) });
  writer.record(row(1));
  await writer.flush();
  assert.equal(errors.length, 1);
  assert.equal(writer.pendingCount, 1);
  writer.record(row(2));
  writer.record(row(3));
  await tick();
  assert.equal(store.calls, 1, "after a failure, the batch size does not retry on every record: the timer does");
  store.failing = false;
  await writer.close();
  assert.deepEqual(store.batches.map((b) => b.rows.map((r) => r.id)), [["req_1", "req_2", "req_3"]]);
  assert.deepEqual(store.batches[0].usage.map((u) => u.requests), [3]);
  assert.equal(writer.pendingCount, 0);
});

test("while the database is away, the oldest rows past the bound are dropped and counted", async () => {
  const store = fakeStore();
  store.failing = true;
  const writer = new AuditWriter(store, { flushIntervalMs: 60_000, batchSize: 5, maxPending: 10, onError: () => undefined });
  for (let i = 0; i < 25; i++) {
    writer.record(row(i));
    if (i % 7 === 0) await writer.flush();
  }
  assert.equal(writer.pendingCount, 10);
  assert.equal(writer.dropped, 15);
  store.failing = false;
  await writer.close();
  assert.deepEqual(store.batches[0].rows.map((r) => r.id), Array.from({ length: 10 }, (_, i) => `req_${i + 15}`));
  assert.equal(store.batches[0].usage[0].requests, 25, "usage still counts the dropped rows");
});

test("a throwing onError does not stop later flushes", async () => {
  const store = fakeStore();
  store.failing = true;
  const writer = new AuditWriter(store, {
    ...quiet,
    onError: () => {
      throw new Error("logger broke");
    },
  });
  writer.record(row(1));
  await writer.flush();
  store.failing = false;
  await writer.close();
  assert.deepEqual(store.batches.map((b) => b.rows.length), [1]);
});

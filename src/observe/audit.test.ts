import assert from "node:assert/strict";
import { test } from "node:test";
import type { RequestRow, UsageRow } from "../store/index.js";
import { forEachBackend } from "../store/test-backends.js";
import { AuditWriter } from "./audit.js";

function row(i: number, status = 200): RequestRow {
  return {
    id: `req_${i}`, time: Date.UTC(2026, 0, 2, 3) + i, key_id: "k", source: "svc", surface: "ollama", method: "POST",
    path: "/api/chat", model: "m", server: "s", status, latency_ms: 1, ttft_ms: null, tokens_in: 2, tokens_out: 3, retries: 0, error: null,
  };
}

test("the audit writer batches rows and usage into the store", async (t) => {
  await forEachBackend(t, async (backend) => {
    const store = await backend.open();
    try {
      const writer = new AuditWriter(store, { flushIntervalMs: 60_000, batchSize: 1000 });
      for (let i = 0; i < 10; i++) writer.record(row(i, i === 9 ? 502 : 200));
      assert.equal((await store.audit.listRequests({ sinceMs: 0 })).length, 0, "nothing is written before a flush");
      await writer.close();
      assert.equal((await store.audit.listRequests({ sinceMs: 0 })).length, 10);
      assert.deepEqual(await store.audit.usage({ sinceDay: "2026-01-01" }), [
        { day: "2026-01-02", model: "m", key_id: "k", requests: 10, tokens_in: 20, tokens_out: 30, errors: 1 },
      ]);
    } finally {
      await store.close();
    }
  });
});

test("reaching the batch size flushes without waiting for the timer", async () => {
  const written: RequestRow[][] = [];
  const writer = new AuditWriter({ audit: { write: async (rows: RequestRow[]) => void written.push(rows) } as never }, { flushIntervalMs: 60_000, batchSize: 3 });
  for (let i = 0; i < 3; i++) writer.record(row(i));
  await writer.flush();
  assert.deepEqual(written.map((b) => b.length), [3]);
  await writer.close();
});

test("a failed flush keeps its rows and usage for the next one", async () => {
  let fail = true;
  const batches: Array<{ rows: RequestRow[]; usage: UsageRow[] }> = [];
  const errors: unknown[] = [];
  const store = {
    audit: {
      write: async (rows: RequestRow[], usage: UsageRow[]) => {
        if (fail) throw new Error("database away");
        batches.push({ rows, usage });
      },
    },
  };
  const writer = new AuditWriter(store as never, { flushIntervalMs: 60_000, batchSize: 100, onError: (e) => errors.push(e) });
  writer.record(row(1));
  await writer.flush();
  assert.equal(errors.length, 1);
  assert.equal(writer.pendingCount, 1);
  writer.record(row(2));
  fail = false;
  await writer.close();
  assert.deepEqual(batches[0].rows.map((r) => r.id), ["req_1", "req_2"]);
  assert.equal(batches[0].usage[0].requests, 2);
});

import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { openAuditSink, openStore } from "./index.js";
import type { RequestRow } from "./schema.js";

function row(i: number): RequestRow {
  return {
    id: `req_${i}`, time: 1_700_000_000_000 + i, key_id: "k", source: null, surface: "openai", method: "POST", path: "/v1/chat/completions",
    model: "m", server: "s", status: 200, latency_ms: 1.5, ttft_ms: null, tokens_in: 1, tokens_out: 2, retries: 0, error: null,
    user_id: null, loaded: null, route: null, retry_reasons: null, queue_ms: null,
  };
}

test("on SQLite, audit batches are written by a thread of their own and read back on the main connection", async () => {
  const dir = mkdtempSync(join(tmpdir(), "flotilla-sink-"));
  const store = await openStore({ dataDir: dir });
  const sink = openAuditSink(store, { dataDir: dir });
  try {
    assert.notEqual(sink.audit, store.audit, "SQLite gets the threaded sink");
    await sink.audit.insertRequests(Array.from({ length: 700 }, (_, i) => row(i)), [
      { day: "2023-11-14", model: "m", key_id: "k", requests: 700, tokens_in: 700, tokens_out: 1400, errors: 0 },
    ]);
    assert.equal((await store.audit.listRequests({ sinceMs: 0, limit: 1000 })).length, 700);
    assert.equal((await store.audit.usage({ sinceDay: "2023-11-01" }))[0].tokens_out, 1400);
    assert.deepEqual((await sink.audit.usageBy("model", 0)).map((g) => [g.name, g.requests, g.tokens_out]), [["m", 700, 1400]], "aggregates run on the thread too");
    assert.equal(await sink.audit.pruneRequests(1_700_000_000_000 + 100, 1000), 100, "and the retention's deletes");
    await assert.rejects(sink.audit.insertRequests([{ ...row(1), status: null as unknown as number }]), /NOT NULL/i, "a failed batch is reported to the writer");
  } finally {
    await sink.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

import assert from "node:assert/strict";
import type { EventRow, SystemSampleRow } from "./index.js";
import { forEachBackend } from "./test-backends.js";

// Fleet events and machine samples: the same contract on SQLite and PostgreSQL.

const T0 = 1_700_000_000_000;

function event(i: number, kind: EventRow["kind"], node = "gpu1", model: string | null = null): EventRow {
  return { id: `evt_${String(i).padStart(3, "0")}`, time: T0 + i, kind, node, model, detail: null };
}

function sample(node: string, time: number): SystemSampleRow {
  return { node, time, cpu_cores: 8, cpu_load_1m: 1.5, memory_total_bytes: 64e9, memory_free_bytes: 32e9, gpus: '[{"name":"A100"}]' };
}

forEachBackend("events come back newest first, by time, kind and node", async (store) => {
  await store.events.insert([event(1, "server_online"), event(2, "model_loaded", "gpu1", "llama3:latest"), event(3, "model_unloaded", "gpu2", "qwen:latest"), event(4, "server_offline", "gpu2")]);
  assert.deepEqual((await store.events.list({ sinceMs: T0, limit: 10 })).map((e) => e.id), ["evt_004", "evt_003", "evt_002", "evt_001"]);
  assert.deepEqual((await store.events.list({ sinceMs: T0 + 2, kinds: ["model_loaded", "model_unloaded"], limit: 10 })).map((e) => [e.id, e.model]), [["evt_003", "qwen:latest"], ["evt_002", "llama3:latest"]]);
  assert.deepEqual((await store.events.list({ sinceMs: T0, node: "gpu2", limit: 1 })).map((e) => e.id), ["evt_004"]);
  await store.events.insert([]);
});

forEachBackend("machine samples are kept per node in time order, a repeat of one moment once, and old ones pruned", async (store) => {
  await store.events.insertSamples([sample("gpu1", T0 + 20), sample("gpu1", T0 + 10), sample("gpu2", T0 + 10)]);
  await store.events.insertSamples([sample("gpu1", T0 + 10)]);
  await store.events.insert([event(5, "server_online")]);
  const rows = await store.events.samples("gpu1", T0);
  assert.deepEqual(rows.map((r) => r.time), [T0 + 10, T0 + 20]);
  assert.deepEqual(rows[0], sample("gpu1", T0 + 10));
  assert.equal(await store.events.prune(T0 + 15), 3, "two samples and the event before it");
  assert.deepEqual((await store.events.samples("gpu1", 0)).map((r) => r.time), [T0 + 20]);
});

forEachBackend("fleet settings are stored as JSON by name, replaced when set again", async (store) => {
  assert.equal(await store.settings.get("routing_mode"), undefined);
  await store.settings.set("routing_mode", { mode: "local", node: "gpu1" });
  await store.settings.set("routing_mode", { mode: "distributed" });
  await store.settings.set("fallback", { enabled: true, model: "llama3:latest" });
  assert.deepEqual(await store.settings.get("routing_mode"), { mode: "distributed" });
  assert.deepEqual(await store.settings.get("fallback"), { enabled: true, model: "llama3:latest" });
});

forEachBackend("transfers record progress, and a stop asked for by any replica is seen by the one running it", async (store) => {
  const row = { id: "tr_1", model: "m:latest", node: "gpu1", source: "download" as const, status: "running" as const, stage: null, completed_bytes: 0, total_bytes: 0, error: null, cancel_requested: 0, created_at: T0, updated_at: T0 };
  await store.transfers.insert(row);
  await store.transfers.insert({ ...row, id: "tr_0", created_at: T0 - 1, status: "completed" });
  assert.deepEqual(await store.transfers.update("tr_1", { status: "running", stage: "pulling abc", completed_bytes: 50, total_bytes: 100, error: null, updated_at: T0 + 1 }), { cancelRequested: false });
  assert.equal(await store.transfers.requestCancel("tr_1"), true);
  assert.equal(await store.transfers.requestCancel("tr_0"), false, "a finished transfer has nothing to stop");
  assert.deepEqual(await store.transfers.update("tr_1", { status: "running", stage: "pulling abc", completed_bytes: 60, total_bytes: 100, error: null, updated_at: T0 + 2 }), { cancelRequested: true });
  const got = await store.transfers.get("tr_1");
  assert.deepEqual([got?.completed_bytes, got?.total_bytes, got?.stage, got?.cancel_requested], [60, 100, "pulling abc", 1]);
  assert.deepEqual((await store.transfers.list(10)).map((t) => t.id), ["tr_1", "tr_0"]);
});

import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { SimServer } from "../sim/index.js";
import { simulators, startFlotilla, waitFor, type Flotilla } from "./harness.js";

const sims = simulators();
const dataDir = mkdtempSync(join(tmpdir(), "flotilla-cluster-"));
let gw: Flotilla;
let replica: Flotilla;
let a: SimServer;
let b: SimServer;

async function json<T>(res: Response | Promise<Response>): Promise<T> {
  const r = await res;
  assert.ok(r.ok, `${r.url}: ${r.status} ${await r.clone().text()}`);
  return (await r.json()) as T;
}

const generate = (on: Flotilla, model: string) => on.admin("/api/generate", { method: "POST", body: JSON.stringify({ model, prompt: "hi", stream: false }) });

describe("cluster views and switches (seed 003)", () => {
  before(async () => {
    a = await sims.start({ kind: "ollama", models: ["llama3:latest"], loaded: ["llama3:latest"], latencyMs: 300 });
    b = await sims.start({ kind: "ollama", models: ["qwen:latest"] });
    const options = { dataDir, servers: [`${a.url},ollama`, `${b.url},ollama`], yaml: "poll:\n  interval_ms: 100\n" };
    gw = await startFlotilla(options);
    replica = await startFlotilla(options);
  });
  after(async () => {
    await Promise.all([gw.stop(), replica.stop()]);
    await sims.closeAll();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const nameOf = async (sim: SimServer) =>
    (await json<{ nodes: Array<{ id: string; address: string }> }>(gw.admin("/api/v1/nodes"))).nodes.find((n) => n.address === sim.url)?.id as string;

  test("status, metrics and stats describe the fleet; the request in flight is listed while it runs", async () => {
    const status = await json<{ distributed_mode: boolean; fallback_mode: boolean; cluster_size: number; active_nodes: string[]; integration_stats: { servers: number } }>(gw.admin("/api/distributed/status"));
    assert.deepEqual([status.distributed_mode, status.fallback_mode, status.cluster_size, status.active_nodes.length, status.integration_stats.servers], [true, false, 2, 2, 2]);
    assert.deepEqual(await json(gw.admin("/api/v1/cluster/status")), status);

    const before = await json<{ requests_processed: number; nodes_online: number; models_loaded: number }>(gw.admin("/api/distributed/metrics"));
    assert.deepEqual([before.nodes_online, before.models_loaded], [2, 1]);
    const slow = generate(gw, "llama3");
    const listed = await waitFor("the request in flight", async () => (await json<{ requests: Array<{ model: string; node: string; elapsed_ms: number }> }>(gw.admin("/api/distributed/requests"))).requests[0]);
    assert.deepEqual([listed.model, listed.node], ["llama3", await nameOf(a)]);
    assert.equal((await slow).status, 200);
    assert.deepEqual((await json<{ requests: unknown[] }>(gw.admin("/api/distributed/requests"))).requests, []);
    const after = await json<{ requests_processed: number }>(gw.admin("/api/distributed/metrics"));
    assert.equal(after.requests_processed, before.requests_processed + 1);
    const stats = await json<{ requests_processed: number; nodes_total: number; models_total: number; in_flight: number }>(gw.admin("/admin/stats"));
    assert.deepEqual([stats.nodes_total, stats.models_total, stats.in_flight], [2, 2, 0]);
  });

  test("local mode sends everything to one node; distributed mode spreads again", async () => {
    const aName = await nameOf(a);
    assert.deepEqual(await json(gw.admin("/admin/mode", { method: "POST", body: JSON.stringify({ mode: "local", node: aName }) })), { mode: "local", node: aName });
    assert.equal((await generate(gw, "llama3")).status, 200);
    const refused = await generate(gw, "qwen");
    assert.equal(refused.status, 503, "qwen is only on the node local mode leaves out");
    const noEngine = await gw.admin("/admin/mode", { method: "POST", body: JSON.stringify({ mode: "local" }) });
    assert.equal(noEngine.status, 404, "no embedded engine to be local to");
    await waitFor("the replica follows", async () => (await replica.admin("/admin/stats").then((r) => r.json() as Promise<{ mode: { mode: string } }>)).mode.mode === "local");
    assert.equal((await generate(replica, "qwen")).status, 503);
    await json(gw.admin("/admin/mode", { method: "POST", body: JSON.stringify({ mode: "distributed" }) }));
    assert.equal((await generate(gw, "qwen")).status, 200);
  });

  test("with the fallback on, a model no node has is answered by the fallback model, and says so", async () => {
    assert.equal((await generate(gw, "gone")).status, 404);
    assert.equal((await gw.admin("/admin/fallback", { method: "POST", body: JSON.stringify({ enabled: true }) })).status, 400, "fallback to what?");
    assert.deepEqual(await json(gw.admin("/admin/fallback", { method: "POST", body: JSON.stringify({ enabled: true, model: "qwen" }) })), { enabled: true, model: "qwen", node: null });
    const served = await generate(gw, "gone");
    assert.equal(served.status, 200);
    assert.equal(served.headers.get("x-flotilla-fallback-model"), "qwen:latest");
    assert.equal((await json<{ fallback_mode: boolean }>(gw.admin("/api/distributed/status"))).fallback_mode, true);
    await waitFor("the replica falls back too", async () => (await generate(replica, "gone")).status === 200);
    await json(gw.admin("/admin/fallback", { method: "POST", body: JSON.stringify({ enabled: false }) }));
    assert.equal((await generate(gw, "gone")).status, 404);
  });
});

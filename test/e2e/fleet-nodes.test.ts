import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, afterEach, before, describe, test } from "node:test";
import { startSim, type SimServer } from "../sim/index.js";
import { simulators, startFlotilla, waitFor, type Flotilla } from "./harness.js";
import { startWorker } from "./worker-harness.js";

interface Node {
  id: string;
  status: string;
  address: string;
  models: string[];
  loaded: string[];
  drained: boolean;
  in_flight: number;
  resources: { cpu: number | null; memory: number | null; disk: number | null; vram: number | null };
}
interface Event {
  kind: string;
  server: string;
  model: string | null;
  detail: string | null;
}

const sims = simulators();
let gw: Flotilla;
let a: SimServer;
let b: SimServer;

async function json<T>(res: Response | Promise<Response>): Promise<T> {
  const r = await res;
  assert.ok(r.ok, `${r.url}: ${r.status}`);
  return (await r.json()) as T;
}

let asked = 0;
/** A new conversation each time, so conversation affinity keeps none on one server. */
const chat = () =>
  gw.admin("/api/chat", { method: "POST", body: JSON.stringify({ model: "m", messages: [{ role: "user", content: `question ${asked++}` }], stream: false }) }).then(async (r) => {
    await r.arrayBuffer();
    return r.status;
  });

const chatsOn = (sim: SimServer) => sim.requests.filter((r) => r.path === "/api/chat").length;

async function serverEvents(): Promise<Event[]> {
  return (await json<{ events: Event[] }>(gw.admin("/api/server-events?hours=1"))).events;
}

describe("nodes: the fleet's view, drain and undrain, and the events they leave", () => {
  before(async () => {
    a = await sims.start({ kind: "ollama", models: ["m:latest"], loaded: ["m:latest"], latencyMs: 15 });
    b = await sims.start({ kind: "ollama", models: ["m:latest"], latencyMs: 15 });
    gw = await startFlotilla({ servers: [`${a.url},ollama`, `${b.url},ollama`], yaml: "poll:\n  interval_ms: 100\n" });
  });
  after(async () => {
    await gw.stop();
    await sims.closeAll();
  });

  test("every node is listed with its status, address and models, on seed 003's and seed 004's routes", async () => {
    const { nodes } = await json<{ nodes: Node[] }>(gw.admin("/api/v1/nodes"));
    assert.deepEqual(nodes.map((n) => [n.status, n.address, n.models, n.loaded.length]).sort(), [
      ["active", a.url, ["m:latest"], 1],
      ["active", b.url, ["m:latest"], 0],
    ].sort());
    const same = await json<{ nodes: Node[] }>(gw.admin("/api/distributed/nodes"));
    assert.deepEqual(same.nodes.map((n) => n.id).sort(), nodes.map((n) => n.id).sort());
    const one = await json<Node>(gw.admin(`/api/v1/nodes/${nodes[0].id}`));
    assert.equal(one.id, nodes[0].id);
    const { servers } = await json<{ servers: Array<{ name: string; loaded: string[] }> }>(gw.admin("/api/servers"));
    assert.equal(servers.length, 2);
    const missing = await gw.admin("/api/v1/nodes/nope/drain", { method: "POST" });
    assert.equal(missing.status, 404);
    assert.equal(((await missing.json()) as { error: { code: string } }).error.code, "server_not_found");
  });

  test("a node drained under traffic takes no new request and none fails; undrained, it serves again", async () => {
    const aName = (await json<{ nodes: Node[] }>(gw.admin("/api/v1/nodes"))).nodes.find((n) => n.address === a.url)?.id as string;
    const statuses: number[] = [];
    let running = true;
    const clients = Array.from({ length: 4 }, async () => {
      while (running) statuses.push(await chat());
    });
    await waitFor("traffic on a", () => chatsOn(a) >= 8);
    const drained = await json<Node>(gw.admin(`/api/v1/nodes/${aName}/drain`, { method: "POST" }));
    assert.equal(drained.drained, true);
    assert.ok(["draining", "drained"].includes(drained.status));
    // Requests sent to it before the drain finish there; once they have, nothing more arrives.
    await waitFor("a's in-flight requests to finish", async () => (await json<Node>(gw.admin(`/api/v1/nodes/${aName}`))).status === "drained");
    const onAAtDrain = chatsOn(a);
    const onBAtDrain = chatsOn(b);
    await waitFor("traffic moved to b", () => chatsOn(b) >= onBAtDrain + 8);
    assert.equal(chatsOn(a), onAAtDrain, "nothing new reached the drained node");

    await json<Node>(gw.admin(`/api/v1/nodes/${aName}/undrain`, { method: "POST" }));
    await waitFor("traffic back on a", () => chatsOn(a) >= onAAtDrain + 4);
    running = false;
    await Promise.all(clients);
    // At least the 8 + 8 + 4 the waits above counted on the servers (b may have had none before the drain: a had the model loaded).
    assert.ok(statuses.length >= 20, `${statuses.length} requests answered`);
    assert.deepEqual([...new Set(statuses)], [200], "no request failed");

    const kinds = (await serverEvents()).filter((e) => e.server === aName).map((e) => e.kind);
    assert.deepEqual(kinds.slice(0, 2), ["node_undrained", "node_drained"], "newest first");
  });

  test("model loads and unloads, a server going offline, coming back and rebooting are events", async () => {
    const nodes = (await json<{ nodes: Node[] }>(gw.admin("/api/v1/nodes"))).nodes;
    const aName = nodes.find((n) => n.address === a.url)?.id as string;
    const bName = nodes.find((n) => n.address === b.url)?.id as string;
    a.setLoaded([]);
    b.setLoaded(["m:latest"]);
    const modelEvents = await waitFor("model events", async () => {
      const { events } = await json<{ events: Event[] }>(gw.admin("/api/events?hours=1"));
      const seen = events.map((e) => `${e.kind} ${e.server} ${e.model}`);
      return seen.includes(`model_unloaded ${aName} m:latest`) && seen.includes(`model_loaded ${bName} m:latest`) && seen;
    });
    assert.ok(modelEvents.every((e) => e.startsWith("model_")), "/api/events holds model events only");

    const port = b.port;
    await b.close();
    await waitFor("b offline", async () => (await serverEvents()).some((e) => e.kind === "server_offline" && e.server === bName));
    b = await sims.start({ kind: "ollama", models: ["m:latest"], port, version: "0.13.0" });
    const back = await waitFor("b back, rebooted", async () => {
      const events = (await serverEvents()).filter((e) => e.server === bName);
      return events.some((e) => e.kind === "server_reboot") && events;
    });
    assert.deepEqual(back.slice(0, 3).map((e) => e.kind).sort(), ["server_offline", "server_online", "server_reboot"]);
    assert.equal(back.find((e) => e.kind === "server_reboot")?.detail, "version 0.12.0 → 0.13.0");
    const { events: onlyB } = await json<{ events: Event[] }>(gw.admin(`/api/server-events?hours=1&server=${encodeURIComponent(bName)}`));
    assert.ok(onlyB.length >= 3 && onlyB.every((e) => e.server === bName));
    assert.equal((await gw.admin("/api/events?hours=abc")).status, 400);
  });
});

describe("system metrics history from a worker's heartbeats", () => {
  let upstream: SimServer;
  const stops: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const stop of stops.splice(0).reverse()) await stop();
  });

  test("a worker's machine and GPUs are sampled, served by /api/system-metrics, and each new reading reaches the live stream", async () => {
    upstream = await startSim({ kind: "ollama", models: ["w:latest"] });
    stops.push(() => upstream.close());
    const gateway = await startFlotilla({ yaml: "events:\n  system_sample_ms: 100\nworkers:\n  heartbeat_interval_ms: 100\n" });
    stops.push(() => gateway.stop());
    // The worker asks nvidia-smi for its GPUs: this one answers for a 24 GiB card with 6 GiB in use.
    const bin = mkdtempSync(join(tmpdir(), "flotilla-gpu-"));
    writeFileSync(join(bin, "nvidia-smi"), "#!/bin/sh\necho 'Test GPU, 24576, 6144, 30'\n", { mode: 0o755 });
    const stream = await gateway.admin("/api/state/stream", { signal: AbortSignal.timeout(15_000) });
    const worker = startWorker(["--server", gateway.url, "--name", "gpu-w", "--upstream", upstream.url], { PATH: `${bin}:${process.env.PATH ?? ""}` });
    stops.push(() => worker.stop());
    const samples = await waitFor("samples", async () => {
      const body = (await (await gateway.admin("/api/system-metrics?serverId=gpu-w&hours=1")).json()) as {
        samples?: Array<{ memory: { total_bytes: number } | null; cpu: { cores: number } | null; gpus: Array<{ memory_used_bytes: number }> | null }>;
      };
      return (body.samples?.length ?? 0) >= 2 && body.samples;
    });
    assert.ok((samples[0].memory?.total_bytes ?? 0) > 0);
    assert.ok((samples[0].cpu?.cores ?? 0) > 0);
    assert.equal(samples[0].gpus?.[0].memory_used_bytes, 6144 * 1024 * 1024);
    const node = (await (await gateway.admin("/api/v1/nodes/gpu-w")).json()) as Node;
    assert.ok(node.resources.memory !== null && node.resources.memory > 0 && node.resources.memory < 1);
    assert.ok(node.resources.disk !== null && node.resources.disk >= 0 && node.resources.disk <= 1, "the worker reports its disk");
    assert.equal(node.resources.vram, 0.25, "VRAM in use from the worker's GPUs");
    // The worker's models stay as they are: what the stream sends for it are new readings of its machine.
    const reader = (stream.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    let text = "";
    const readings = () => text.split("\n\n").filter((block) => block.startsWith("event: node\n") && block.includes('"id":"gpu-w"')).length;
    while (readings() < 3) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
    await reader.cancel();
    assert.ok(readings() >= 3, "a node message per new reading");
    assert.equal((await gateway.admin("/api/system-metrics?serverId=nobody&hours=1")).status, 404);
  });
});

describe("a plain server's machine from its node exporter", () => {
  const stops: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const stop of stops.splice(0).reverse()) await stop();
  });

  /** A stand-in for Prometheus's node exporter: its text format, with this much free disk. */
  async function exporter(freeDiskBytes: number): Promise<string> {
    const { createServer } = await import("node:http");
    const text = [
      "node_load1 2",
      ...[0, 1, 2, 3].map((cpu) => `node_cpu_seconds_total{cpu="${cpu}",mode="idle"} 100`),
      "node_memory_MemTotal_bytes 8e+09",
      "node_memory_MemAvailable_bytes 2e+09",
      'node_filesystem_size_bytes{mountpoint="/"} 1e+12',
      `node_filesystem_avail_bytes{mountpoint="/"} ${freeDiskBytes}`,
    ].join("\n");
    const server = createServer((_req, res) => res.writeHead(200, { "content-type": "text/plain" }).end(text));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    stops.push(() => new Promise((resolve) => server.close(resolve)));
    return `http://127.0.0.1:${(server.address() as { port: number }).port}/metrics`;
  }

  test("resources and history come from the exporter, and a node without disk room takes no new copy", async () => {
    const holder = await startSim({ kind: "ollama", models: ["r:latest"], loaded: ["r:latest"] });
    const full = await startSim({ kind: "ollama", models: [] });
    const roomy = await startSim({ kind: "ollama", models: ["x:latest", "y:latest"] });
    stops.push(() => holder.close(), () => full.close(), () => roomy.close());
    const yaml = [
      "poll:\n  interval_ms: 100",
      "events:\n  system_sample_ms: 100",
      "servers:",
      `  - { name: holder, url: "${holder.url}", kind: ollama, vram_bytes: 4000000000 }`,
      `  - { name: full, url: "${full.url}", kind: ollama, node_exporter_url: "${await exporter(1000)}" }`,
      `  - { name: roomy, url: "${roomy.url}", kind: ollama, node_exporter_url: "${await exporter(5e11)}" }`,
    ].join("\n");
    const gateway = await startFlotilla({ yaml });
    stops.push(() => gateway.stop());
    const node = await waitFor("full's resources", async () => {
      const n = (await (await gateway.admin("/api/v1/nodes/full")).json()) as Node;
      return n.resources.cpu !== null && n;
    });
    assert.deepEqual(node.resources, { cpu: 0.5, memory: 0.75, disk: 1, vram: null }, "a full disk; no GPUs known");
    const holding = (await (await gateway.admin("/api/v1/nodes/holder")).json()) as Node;
    assert.equal(holding.resources.vram, 0.25, "a loaded 1 GB model of a declared 4 GB");
    const samples = await waitFor("samples", async () => {
      const body = (await (await gateway.admin("/api/system-metrics?serverId=full&hours=1")).json()) as { samples: Array<{ memory: { free_bytes: number } }> };
      return body.samples.length >= 1 && body.samples;
    });
    assert.equal(samples[0].memory.free_bytes, 2e9);
    const transfer = (await (await gateway.admin("/api/v1/models/r:latest/download", { method: "POST" })).json()) as { node: string };
    assert.equal(transfer.node, "roomy", "full has fewer models, but no room for the copy");
  });
});

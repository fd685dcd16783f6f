import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Ollama } from "ollama";
import type { SimServer } from "../sim/index.js";
import { ADMIN_KEY, simulators, startFlotilla, waitFor, type Flotilla } from "./harness.js";

interface Transfer {
  id: string;
  model: string;
  node: string;
  source: string;
  status: string;
  stage: string | null;
  completed_bytes: number;
  total_bytes: number;
  percent: number;
}
interface DistributedModel {
  name: string;
  replicas: number;
  nodes: string[];
  status: string;
}

const sims = simulators();
let gw: Flotilla;
const node: Record<"n1" | "n2" | "n3" | "slow", SimServer> = {} as never;
const nameOf: Record<string, string> = {};

async function json<T>(res: Response | Promise<Response>, status = 200): Promise<T> {
  const r = await res;
  const text = await r.text();
  assert.equal(r.status, status, `${r.url}: ${text}`);
  return JSON.parse(text) as T;
}

const post = (path: string, body?: unknown) => gw.admin(path, { method: "POST", ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
const transfer = (id: string) => json<Transfer>(gw.admin(`/api/v1/transfers/${id}`));
const finished = (id: string) => waitFor(`transfer ${id} to end`, async () => ((await transfer(id)).status !== "running" ? transfer(id) : undefined));
const onDisk = async (sim: SimServer) => ((await (await fetch(`${sim.url}/api/tags`)).json()) as { models: Array<{ name: string }> }).models.map((m) => m.name);
const distributed = async () => (await json<{ models: DistributedModel[] }>(gw.admin("/api/distributed/models"))).models;

describe("models across the fleet: downloads as transfers, cancel, delete, replication, migration", () => {
  before(async () => {
    node.n1 = await sims.start({ kind: "ollama", models: ["m:latest", "r:latest"], loaded: ["r:latest"] });
    node.n2 = await sims.start({ kind: "ollama", models: [] });
    node.n3 = await sims.start({ kind: "ollama", models: [] });
    node.slow = await sims.start({ kind: "ollama", models: [], tokenIntervalMs: 250 });
    const servers = Object.entries(node).map(([name, sim]) => `${sim.url},ollama`);
    gw = await startFlotilla({ servers });
    const { nodes } = await json<{ nodes: Array<{ id: string; address: string }> }>(gw.admin("/api/v1/nodes"));
    for (const [name, sim] of Object.entries(node)) nameOf[name] = nodes.find((n) => n.address === sim.url)?.id as string;
  });
  after(async () => {
    await gw.stop();
    await sims.closeAll();
  });

  test("a download onto a named node is a transfer whose progress ends at 100%, and the model is then listed there", async () => {
    const started = await json<Transfer>(post("/api/v1/models/new:latest/download", { node: nameOf.n2 }), 202);
    assert.deepEqual([started.model, started.node, started.source, started.status], ["new:latest", nameOf.n2, "download", "running"]);
    const done = await finished(started.id);
    assert.deepEqual([done.status, done.percent, done.total_bytes, done.completed_bytes], ["completed", 100, 1_000_001_000, 1_000_001_000]);
    assert.ok((await onDisk(node.n2)).includes("new:latest"));
    const listed = (await distributed()).find((m) => m.name === "new:latest");
    assert.deepEqual(listed?.nodes, [nameOf.n2]);
    const { replicas } = await json<{ replicas: Array<{ node: string; status: string }> }>(gw.admin("/api/distributed/models/new:latest/replicas"));
    assert.deepEqual(replicas.map((r) => [r.node, r.status]), [[nameOf.n2, "online"]]);
    assert.ok((await json<{ transfers: Transfer[] }>(gw.admin("/api/v1/transfers"))).transfers.some((t) => t.id === started.id));

    const anywhere = await json<Transfer>(post("/api/v1/models/new:latest/download"), 202);
    assert.notEqual(anywhere.node, nameOf.n2, "the best node is one without the model");
    assert.equal((await finished(anywhere.id)).status, "completed");
  });

  test("Ollama's own pull, through the official client, streams progress and is listed as a transfer", async () => {
    const ollama = new Ollama({ host: gw.url, headers: { authorization: `Bearer ${ADMIN_KEY}` } });
    const statuses: string[] = [];
    for await (const part of await ollama.pull({ model: "pulled:latest", stream: true })) statuses.push(part.status);
    assert.equal(statuses.at(-1), "success");
    assert.ok(statuses.some((s) => s.startsWith("pulling ")));
    const { transfers } = await json<{ transfers: Transfer[] }>(gw.admin("/api/v1/transfers"));
    const tracked = transfers.find((t) => t.model === "pulled:latest");
    assert.deepEqual([tracked?.source, tracked?.status, tracked?.percent], ["pull", "completed", 100]);
  });

  test("a running transfer can be cancelled: it stops, says so, and the node has no model", async () => {
    const started = await json<Transfer>(post("/api/v1/models/big:latest/download", { node: nameOf.slow }), 202);
    await waitFor("progress", async () => (await transfer(started.id)).completed_bytes > 0);
    const cancelled = await json<Transfer>(gw.admin(`/api/v1/transfers/${started.id}`, { method: "DELETE" }));
    assert.equal(cancelled.status, "cancelled");
    assert.ok(cancelled.percent > 0 && cancelled.percent < 100);
    await new Promise((resolve) => setTimeout(resolve, 600));
    assert.equal((await onDisk(node.slow)).includes("big:latest"), false);
    assert.equal((await transfer(started.id)).status, "cancelled");
    assert.equal((await gw.admin("/api/v1/transfers/tr_nope")).status, 404);
  });

  test("Ollama's pull, show and delete take a node field to act on one node only", async () => {
    const pulled = await post("/api/pull", { model: "aimed:latest", node: nameOf.n3, stream: false });
    assert.deepEqual([pulled.status, await pulled.json(), pulled.headers.get("x-flotilla-server")], [200, { status: "success" }, nameOf.n3]);
    assert.ok((await onDisk(node.n3)).includes("aimed:latest"));
    await json(post("/api/v1/models/aimed:latest/download", { node: nameOf.n2 }), 202);
    await waitFor("aimed on n2", async () => (await onDisk(node.n2)).includes("aimed:latest"));
    await waitFor("the fleet sees both copies", async () => (await distributed()).find((m) => m.name === "aimed:latest")?.replicas === 2);
    for (const target of [nameOf.n2, nameOf.n3, nameOf.n2, nameOf.n3]) {
      const shown = await post("/api/show", { model: "aimed:latest", node: target });
      await shown.arrayBuffer();
      assert.deepEqual([shown.status, shown.headers.get("x-flotilla-server")], [200, target]);
    }
    const deleted = await gw.admin("/api/delete", { method: "DELETE", body: JSON.stringify({ model: "aimed:latest", node: nameOf.n3 }) });
    assert.equal(deleted.status, 200);
    assert.equal((await onDisk(node.n3)).includes("aimed:latest"), false);
    assert.ok((await onDisk(node.n2)).includes("aimed:latest"), "the other copy stays");
    const recorded = node.n3.requests.filter((r) => r.path === "/api/delete").at(-1)?.body as Record<string, unknown>;
    assert.deepEqual(recorded, { model: "aimed:latest" }, "the node field is not sent on");
  });

  test("a model removed from the fleet is deleted from every node that had it", async () => {
    const removed = await json<{ deleted_from: string[] }>(gw.admin("/api/v1/models/new:latest", { method: "DELETE" }));
    assert.equal(removed.deleted_from.length, 2);
    assert.equal((await distributed()).some((m) => m.name === "new:latest"), false);
    assert.equal((await gw.admin("/api/v1/models/new:latest", { method: "DELETE" })).status, 404);
  });

  test("rebalance pulls copies up to the desired count on undrained nodes, and removes extras, unloaded ones first", async () => {
    await json(post(`/api/v1/nodes/${nameOf.slow}/drain`));
    const desired = await json<{ desired: number; actual: number; status: string }>(gw.admin("/api/distributed/models/r:latest/replicas", { method: "PUT", body: JSON.stringify({ replicas: 3 }) }));
    assert.deepEqual([desired.desired, desired.actual, desired.status], [3, 1, "under"]);
    const { actions } = await json<{ actions: Array<{ action: string; node: string; transfer_id?: string }> }>(post("/api/distributed/rebalance"));
    assert.deepEqual(actions.map((a) => a.action), ["pull", "pull"]);
    assert.equal(actions.some((a) => a.node === nameOf.slow), false, "never onto a drained node");
    for (const a of actions) assert.equal((await finished(a.transfer_id as string)).status, "completed");
    const status = await json<{ models: Array<{ name: string; actual: number; status: string }> }>(gw.admin("/api/distributed/replication/status"));
    assert.deepEqual(status.models.find((m) => m.name === "r:latest"), { name: "r:latest", desired: 3, actual: 3, nodes: [nameOf.n1, nameOf.n2, nameOf.n3].sort(), transferring: [], status: "ok" } as never);

    await json(gw.admin("/api/distributed/models/r:latest/replicas", { method: "PUT", body: JSON.stringify({ replicas: 1 }) }));
    const back = await json<{ actions: Array<{ action: string; node: string }> }>(gw.admin("/admin/rebalance", { method: "POST" }));
    assert.deepEqual(back.actions.map((a) => a.action), ["delete", "delete"]);
    assert.equal(back.actions.some((a) => a.node === nameOf.n1), false, "the copy that is loaded stays");
    assert.deepEqual((await distributed()).find((m) => m.name === "r:latest")?.nodes, [nameOf.n1]);
    await json(post(`/api/v1/nodes/${nameOf.slow}/undrain`));
  });

  test("migrate copies a model to another node, then removes it from the first", async () => {
    const started = await json<Transfer>(post("/api/distributed/migrate", { model_name: "m:latest", from_node: nameOf.n1, to_node: nameOf.n3 }), 202);
    assert.equal(started.source, "migrate");
    await finished(started.id);
    await waitFor("m gone from n1", async () => !(await onDisk(node.n1)).includes("m:latest"));
    assert.ok((await onDisk(node.n3)).includes("m:latest"));
    assert.deepEqual((await distributed()).find((m) => m.name === "m:latest")?.nodes, [nameOf.n3]);
    const wrong = await post("/api/distributed/migrate", { model_name: "m:latest", from_node: nameOf.n1, to_node: nameOf.n2 });
    assert.equal(wrong.status, 404, "n1 has no m any more");
  });
});

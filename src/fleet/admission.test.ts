import assert from "node:assert/strict";
import { test } from "node:test";
import { FlotillaError } from "../kernel/index.js";
import { Admission, type Slot } from "./admission.js";
import { Router } from "./router.js";
import { fleetOf } from "./test-nodes.js";

function setup(maxConcurrency: number, options = { queueMax: 10, queueTimeoutMs: 2000 }) {
  const { fleet, nodes } = fleetOf({ name: "a", models: ["m:latest"], max_concurrency: maxConcurrency });
  const router = new Router(fleet, { fallbackQuantization: false, affinity: false });
  return { node: nodes[0], admission: new Admission(router, options) };
}

test("grants slots up to max_concurrency, then queues until one is released", async () => {
  const { node, admission } = setup(2);
  const first = await admission.acquire({ model: "m" });
  await admission.acquire({ model: "m" });
  assert.equal(node.inFlight, 2);
  let granted = false;
  const third = admission.acquire({ model: "m" }).then((slot) => ((granted = true), slot));
  await new Promise((r) => setImmediate(r));
  assert.equal(granted, false);
  assert.equal(admission.waiting, 1);
  first.release();
  first.release();
  const slot = await third;
  assert.equal(slot.choice.node.name, "a");
  assert.equal(node.inFlight, 2, "a double release frees one slot only");
});

test("a queued request gives up after the wait timeout with 503 and Retry-After", async () => {
  const { admission } = setup(1, { queueMax: 10, queueTimeoutMs: 30 });
  await admission.acquire({ model: "m" });
  await assert.rejects(admission.acquire({ model: "m" }), (err: FlotillaError) => {
    assert.equal(err.code, "queue_timeout");
    assert.equal(err.status, 503);
    assert.ok(Number(err.headers?.["retry-after"]) >= 1);
    return true;
  });
  assert.equal(admission.waiting, 0);
});

test("a full queue refuses at once", async () => {
  const { admission } = setup(1, { queueMax: 1, queueTimeoutMs: 1000 });
  await admission.acquire({ model: "m" });
  const waiting = admission.acquire({ model: "m" });
  await assert.rejects(admission.acquire({ model: "m" }), (err: FlotillaError) => err.code === "queue_full" && err.status === 503);
  await assert.rejects(waiting, (err: FlotillaError) => err.code === "queue_timeout");
});

test("interactive requests go before batch, and keys take turns", async () => {
  const { admission } = setup(1);
  const held = await admission.acquire({ model: "m" });
  const order: string[] = [];
  const wait = (label: string, keyId: string, priority: "interactive" | "batch") =>
    admission.acquire({ model: "m", keyId, priority }).then((slot: Slot) => {
      order.push(label);
      slot.release();
    });
  const all = [
    wait("batch-1", "k1", "batch"),
    wait("k1-a", "k1", "interactive"),
    wait("k1-b", "k1", "interactive"),
    wait("k1-c", "k1", "interactive"),
    wait("k2-a", "k2", "interactive"),
  ];
  held.release();
  await Promise.all(all);
  assert.deepEqual(order, ["k1-a", "k2-a", "k1-b", "k1-c", "batch-1"]);
});

test("a client that goes away leaves the queue", async () => {
  const { admission } = setup(1);
  await admission.acquire({ model: "m" });
  const controller = new AbortController();
  const waiting = admission.acquire({ model: "m", signal: controller.signal });
  assert.equal(admission.waiting, 1);
  controller.abort();
  await assert.rejects(waiting);
  assert.equal(admission.waiting, 0);
});

test("an unknown model is refused with model_not_found before any queueing", async () => {
  const { admission } = setup(1);
  await assert.rejects(admission.acquire({ model: "other" }), (err: FlotillaError) => err.code === "model_not_found" && err.status === 404);
});

test("batch requests leave the reserve to interactive ones, but never every slot of a small server", async () => {
  const { node, admission } = setup(3, { queueMax: 10, queueTimeoutMs: 2000, batchReserveSlots: 1 } as never);
  const batch = [await admission.acquire({ model: "m", priority: "batch" }), await admission.acquire({ model: "m", priority: "batch" })];
  let third = false;
  const waiting = admission.acquire({ model: "m", priority: "batch" }).then((slot) => ((third = true), slot));
  await new Promise((r) => setImmediate(r));
  assert.equal(third, false, "the last slot is kept for interactive traffic");
  const interactive = await admission.acquire({ model: "m" });
  assert.equal(node.inFlight, 3);
  interactive.release();
  await new Promise((r) => setImmediate(r));
  assert.equal(third, false, "a freed reserve slot is not handed to batch work");
  batch[0].release();
  (await waiting).release();

  const single = setup(1, { queueMax: 10, queueTimeoutMs: 2000, batchReserveSlots: 1 } as never);
  const only = await single.admission.acquire({ model: "m", priority: "batch" });
  assert.equal(single.node.inFlight, 1, "a one-slot server still takes batch work");
  only.release();
});

test("one key's flood of one model does not starve another key's request for another model on the same server", async () => {
  const { fleet } = fleetOf({ name: "a", models: ["x:latest", "y:latest"], max_concurrency: 2 });
  const admission = new Admission(new Router(fleet, { fallbackQuantization: false, affinity: false }), { queueMax: 100, queueTimeoutMs: 2000 });
  const running = [await admission.acquire({ model: "x", keyId: "flood" }), await admission.acquire({ model: "x", keyId: "flood" })];
  const order: string[] = [];
  const wait = (label: string, model: string, keyId: string) =>
    admission.acquire({ model, keyId }).then((slot: Slot) => {
      order.push(label);
      slot.release();
    });
  const flood = Array.from({ length: 20 }, (_, i) => wait(`flood-${i}`, "x", "flood"));
  const other = wait("other", "y", "other");
  running[0].release();
  await other;
  assert.equal(order[0], "other", "the first slot freed goes to the key holding none");
  running[1].release();
  await Promise.all(flood);
  assert.equal(order.length, 21);
});

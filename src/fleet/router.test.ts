import assert from "node:assert/strict";
import { test } from "node:test";
import { Router, type Candidates } from "./router.js";
import { fleetOf } from "./test-nodes.js";
import { ModelSwitches, onNode } from "./model-switches.js";

const defaults = { fallbackQuantization: false, affinity: true };

function names(result: Candidates): string[] {
  assert.ok(result.ok, `expected candidates, got ${JSON.stringify(result)}`);
  return result.choices.map((c) => c.node.name);
}

test("prefers a server where the model is already loaded", () => {
  const { fleet } = fleetOf({ name: "a", models: ["llama3:latest"] }, { name: "b", models: ["llama3:latest"], loaded: ["llama3:latest"] });
  assert.deepEqual(names(new Router(fleet, defaults).candidates({ model: "llama3" })), ["b", "a"]);
});

test("among servers with the model on disk, prefers the most free VRAM", () => {
  const { fleet } = fleetOf(
    { name: "small", models: ["m:latest", "x:latest"], vram_bytes: 24e9, loaded: [{ name: "x:latest", size_vram: 20e9 }] },
    { name: "big", models: ["m:latest"], vram_bytes: 24e9 },
  );
  assert.deepEqual(names(new Router(fleet, defaults).candidates({ model: "m" })), ["big", "small"]);
});

test("then the least busy relative to max_concurrency", () => {
  const { fleet } = fleetOf(
    { name: "half", models: ["m:latest"], max_concurrency: 4, inFlight: 2 },
    { name: "quarter", models: ["m:latest"], max_concurrency: 8, inFlight: 2 },
  );
  assert.deepEqual(names(new Router(fleet, defaults).candidates({ model: "m" })), ["quarter", "half"]);
});

test("then the lowest latency, counting near-equal latencies as a tie", () => {
  const { fleet } = fleetOf({ name: "slow", models: ["m:latest"], latencyMs: 80 }, { name: "fast", models: ["m:latest"], latencyMs: 5 });
  assert.deepEqual(names(new Router(fleet, defaults).candidates({ model: "m" })), ["fast", "slow"]);
});

test("latencies within a LAN's jitter tie, so such servers rotate", () => {
  const { fleet } = fleetOf({ name: "a", models: ["m:latest"], latencyMs: 1 }, { name: "b", models: ["m:latest"], latencyMs: 4 });
  const router = new Router(fleet, defaults);
  assert.deepEqual(new Set([0, 1].map(() => names(router.candidates({ model: "m" }))[0])), new Set(["a", "b"]));
});

test("ties rotate between equal servers", () => {
  const { fleet } = fleetOf({ name: "a", models: ["m:latest"] }, { name: "b", models: ["m:latest"] }, { name: "c", models: ["m:latest"] });
  const router = new Router(fleet, defaults);
  const firsts = Array.from({ length: 6 }, () => names(router.candidates({ model: "m" }))[0]);
  assert.deepEqual(new Set(firsts), new Set(["a", "b", "c"]));
  assert.notEqual(firsts[0], firsts[1]);
});

test("matches name and name:latest, and answers with the server's own spelling", () => {
  const { fleet } = fleetOf({ name: "vllm", kind: "openai", models: ["Qwen/Qwen2.5-7B"] }, { name: "ol", models: ["llama3:latest"] });
  const router = new Router(fleet, defaults);
  const qwen = router.candidates({ model: "qwen/qwen2.5-7b:latest" });
  assert.ok(qwen.ok);
  assert.equal(qwen.choices[0].upstreamModel, "Qwen/Qwen2.5-7B");
  const llama = router.candidates({ model: "llama3" });
  assert.ok(llama.ok);
  assert.equal(llama.choices[0].upstreamModel, "llama3:latest");
});

test("skips servers that are down, drained, excluded or of the wrong kind", () => {
  const { fleet } = fleetOf(
    { name: "down", models: ["m:latest"], up: false },
    { name: "drained", models: ["m:latest"], drained: true },
    { name: "tried", models: ["m:latest"] },
    { name: "openai", kind: "openai", models: ["m"] },
    { name: "ok", models: ["m:latest"] },
  );
  const router = new Router(fleet, defaults);
  assert.deepEqual(names(router.candidates({ model: "m", exclude: new Set(["tried"]), kind: "ollama" })), ["ok"]);
});

test("tells an unknown model from one whose servers are all unavailable", () => {
  const { fleet } = fleetOf({ name: "down", models: ["m:latest"], up: false });
  const router = new Router(fleet, defaults);
  assert.deepEqual(router.candidates({ model: "nope" }), { ok: false, reason: "unknown_model" });
  assert.deepEqual(router.candidates({ model: "m" }), { ok: false, reason: "unavailable" });
});

test("a pin forces its server, and fails clearly for an unknown or down one", () => {
  const { fleet } = fleetOf({ name: "a", models: ["m:latest"], loaded: ["m:latest"] }, { name: "b", models: [] }, { name: "c", up: false });
  const router = new Router(fleet, defaults);
  assert.deepEqual(names(router.candidates({ model: "m", pin: "b" })), ["b"]);
  assert.deepEqual(router.candidates({ model: "m", pin: "zzz" }), { ok: false, reason: "pin_unknown" });
  assert.deepEqual(router.candidates({ model: "m", pin: "c" }), { ok: false, reason: "pin_unavailable" });
});

test("falls back to another quantization of the same model only when enabled", () => {
  const { fleet } = fleetOf({ name: "a", models: ["llama3:8b-instruct-q8_0"] });
  const request = { model: "llama3:8b-instruct-q4_K_M" };
  assert.deepEqual(new Router(fleet, defaults).candidates(request), { ok: false, reason: "unknown_model" });
  const result = new Router(fleet, { ...defaults, fallbackQuantization: true }).candidates(request);
  assert.ok(result.ok);
  assert.equal(result.choices[0].upstreamModel, "llama3:8b-instruct-q8_0");
  assert.equal(result.choices[0].fallbackFrom, "llama3:8b-instruct-q4_K_M");
});

test("a conversation goes back to its server while that server has room", () => {
  const { fleet, nodes } = fleetOf(
    { name: "a", models: ["m:latest"], loaded: ["m:latest"], max_concurrency: 2 },
    { name: "b", models: ["m:latest"], max_concurrency: 2 },
  );
  const router = new Router(fleet, defaults);
  router.remember("conv-1", "b");
  assert.equal(names(router.candidates({ model: "m", session: "conv-1" }))[0], "b");
  assert.equal(names(router.candidates({ model: "m", session: "conv-2" }))[0], "a");
  nodes[1].inFlight = 2;
  assert.equal(names(router.candidates({ model: "m", session: "conv-1" }))[0], "a", "a full server loses its affinity");
});

test("local mode routes only to its one node, pins included", () => {
  const { fleet } = fleetOf({ name: "embedded", models: ["m:latest"] }, { name: "gpu", models: ["m:latest", "big:latest"], loaded: ["m:latest"] });
  const router = new Router(fleet, defaults);
  router.mode = { mode: "local", node: "embedded" };
  assert.deepEqual(names(router.candidates({ model: "m" })), ["embedded"]);
  assert.deepEqual(router.candidates({ model: "big" }), { ok: false, reason: "unavailable" });
  assert.deepEqual(router.candidates({ model: "m", pin: "gpu" }), { ok: false, reason: "pin_unavailable" });
  router.mode = { mode: "distributed" };
  assert.deepEqual(names(router.candidates({ model: "m" })), ["gpu", "embedded"]);
  assert.deepEqual(router.mode, { mode: "distributed" });
});

test("the fallback serves another model, or sends to a chosen node, only when nothing has the one asked for", () => {
  const { fleet } = fleetOf({ name: "a", models: ["llama3:latest"] }, { name: "b", models: ["qwen:latest"] });
  const router = new Router(fleet, defaults);
  assert.deepEqual(router.candidates({ model: "gone" }), { ok: false, reason: "unknown_model" });
  router.fallback = { enabled: true, model: "llama3" };
  const served = router.candidates({ model: "gone" });
  assert.ok(served.ok);
  assert.deepEqual(served.choices.map((c) => [c.node.name, c.upstreamModel, c.fallbackFrom]), [["a", "llama3:latest", "gone"]]);
  assert.deepEqual(names(router.candidates({ model: "qwen" })), ["b"], "a model that is there is served as asked");
  router.fallback = { enabled: true, node: "b" };
  const sent = router.candidates({ model: "gone" });
  assert.ok(sent.ok);
  assert.deepEqual(sent.choices.map((c) => [c.node.name, c.upstreamModel, c.fallbackFrom]), [["b", "gone", undefined]]);
  router.fallback = { enabled: false, node: "b" };
  assert.equal(router.candidates({ model: "gone" }).ok, false);
});

test("a model an admin turned off on one node is not sent there, nor there when pinned, and counts as absent where it is off everywhere", () => {
  const { fleet } = fleetOf({ name: "a", models: ["m:latest"], loaded: ["m:latest"] }, { name: "b", models: ["m:latest", "x:latest"] });
  const switches = new ModelSwitches();
  const router = new Router(fleet, defaults, switches);
  assert.deepEqual(names(router.candidates({ model: "m" })), ["a", "b"]);
  switches.off = new Set([onNode("a", "m:latest")]);
  assert.deepEqual(names(router.candidates({ model: "m" })), ["b"]);
  assert.deepEqual(router.candidates({ model: "m", pin: "a" }), { ok: false, reason: "pin_unavailable" });
  switches.off = new Set([onNode("a", "m:latest"), onNode("b", "m:latest")]);
  assert.deepEqual(router.candidates({ model: "m" }), { ok: false, reason: "unknown_model" });
  assert.deepEqual(names(router.candidates({ model: "x" })), ["b"]);
});

test("a hidden model is known by any spelling of its name", () => {
  const switches = new ModelSwitches();
  assert.equal(switches.hides("m"), false);
  switches.hidden = new Set(["m:latest"]);
  assert.deepEqual([switches.hides("M"), switches.hides("m:latest"), switches.hides("m:7b")], [true, true, false]);
});

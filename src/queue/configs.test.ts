import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { QueueConfigs } from "./configs.js";
import type { QueueSpec } from "./spec.js";

const spec = (name: string): QueueSpec => ({ name, priority: 5, mode: "one_shot", consumer: "gateway", concurrency: 4, timeout_secs: 300, retries: 3, backoff_ms: 1000, dead_letter: true });

test("the gateway's own queue is listed after the operator's, stays through reloads, cannot be removed, and keeps its name", () => {
  const dir = mkdtempSync(join(tmpdir(), "flotilla-queues-"));
  try {
    const configs = new QueueConfigs([spec("q")], dir);
    configs.addOwn(spec("own"));
    configs.reload();
    assert.deepEqual(configs.list().map((s) => [s.spec.name, s.file]), [["q", "config"], ["own", "built-in"]]);
    assert.equal(configs.isOwn("own"), true);
    assert.equal(configs.isOwn("q"), false);
    assert.throws(() => configs.remove("own"), /is the gateway's own: it cannot be removed/);
    assert.throws(() => configs.create(spec("own")), /a queue named "own" exists/);
    writeFileSync(join(dir, "own.yaml"), "name: own\n");
    assert.throws(() => configs.reload(), /own\.yaml: queue "own" is the name of a queue of the gateway's own: name this one otherwise/);
    assert.deepEqual(configs.list().map((s) => s.spec.name), ["q", "own"], "a refused reload changes nothing");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { runCli, simulators, startFlotilla, type Flotilla } from "./harness.js";

const sims = simulators();
let gw: Flotilla;

const cli = (args: string[]) => runCli(gw, args);

const DATA = JSON.stringify({ api: "openai", model: "m", messages: [{ role: "user", content: "hi" }] });

describe("flotilla queues, tasks and configs against a running gateway (seed 001's CLI)", () => {
  before(async () => {
    const sim = await sims.start({ kind: "ollama", models: ["m:latest"], loaded: ["m:latest"], latencyMs: 300 });
    gw = await startFlotilla({ servers: [`${sim.url},ollama`], yaml: "queues:\n  - { name: q, priority: 7 }\ntask_runner:\n  poll_ms: 50\n" });
  });
  after(async () => {
    await gw.stop();
    await sims.closeAll();
  });

  test("tasks add --wait follows the task to its end and prints the result", async () => {
    const { code, stdout } = await cli(["tasks", "add", "q", "--data", DATA, "--wait"]);
    assert.equal(code, 0, stdout);
    const [first, ...rest] = stdout.split("\n");
    assert.match(first, /^task_\w+: (pending|active)/);
    assert.ok(rest.some((l) => /: completed \(attempt 1\), \d+\.\d s$/.test(l)), stdout);
    const result = JSON.parse(stdout.slice(stdout.indexOf("{"))) as { choices: Array<{ message: { content: string } }> };
    assert.equal(result.choices[0].message.content, "The quick brown fox jumps over lazy dogs.");
  });

  test("queues list and pause, tasks list by state and cancel, configs list; mistakes exit non-zero", async () => {
    assert.match((await cli(["queues", "list"])).stdout, /^QUEUE\s+PRIORITY\s+CONSUMER\s+STATE[^\n]*\nq\s+7\s+gateway\s+running/);
    assert.equal((await cli(["queues", "pause", "q"])).code, 0);
    const added = (await cli(["tasks", "add", "q", "--data", DATA, "--json"])).stdout;
    const { id } = JSON.parse(added) as { id: string };
    const pending = JSON.parse((await cli(["tasks", "list", "q", "--state", "pending", "--json"])).stdout) as Array<{ id: string }>;
    assert.deepEqual(pending.map((t) => t.id), [id]);
    const cancelled = JSON.parse((await cli(["tasks", "cancel", id, "--json"])).stdout) as { state: string };
    assert.equal(cancelled.state, "cancelled");
    assert.equal((await cli(["tasks", "delete", "q", id])).code, 0);
    assert.equal((await cli(["queues", "unpause", "q"])).code, 0);
    const configs = JSON.parse((await cli(["configs", "list", "--json"])).stdout) as Array<{ spec: { name: string }; source: string }>;
    assert.deepEqual(configs.map((c) => [c.spec.name, c.source]), [["q", "config"]]);
    assert.equal((await cli(["tasks", "add", "q", "--data", "{not json"])).code, 2);
    const missing = await cli(["queues", "show", "nope"]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /no queue named "nope"/);
  });
});

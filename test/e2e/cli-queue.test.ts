import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
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
    assert.deepEqual(configs.map((c) => [c.spec.name, c.source]), [["q", "config"], ["flotilla.responses", "built-in"]], "the gateway's own queue (background responses) last");
    assert.equal((await cli(["tasks", "add", "q", "--data", "{not json"])).code, 2);
    const missing = await cli(["queues", "show", "nope"]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /no queue named "nope"/);
  });

  test("queues watch follows a queue as it drains, a line per change, and ends once nothing is left", async () => {
    assert.equal((await cli(["queues", "pause", "q"])).code, 0);
    for (let i = 0; i < 3; i++) assert.equal((await cli(["tasks", "add", "q", "--data", DATA])).code, 0);
    // The queue is let go only once the watcher has printed it paused: a slow start of the CLI cannot miss that line.
    let printed: () => void = () => undefined;
    const firstLine = new Promise<void>((resolve) => (printed = resolve));
    const watching = runCli(gw, ["queues", "watch", "q"], (out) => out.includes("\n") && printed());
    await Promise.race([firstLine, watching]);
    assert.equal((await cli(["queues", "unpause", "q"])).code, 0);
    const { code, stdout } = await watching;
    assert.equal(code, 0);
    const lines = stdout.trim().split("\n");
    assert.match(lines[0] ?? "", /^q: 3 to run \(0 active\), \d+ done, 0 failed, \d+\/min, paused$/, stdout);
    assert.match(lines.at(-1) ?? "", /^q: 0 to run \(0 active\), \d+ done/, stdout);
    assert.equal(new Set(lines).size, lines.length, "a line only when something changed");
  });

  test("tasks add --file queues one task per line, a thousand per call, with progress; a bad line names itself", async () => {
    const dir = mkdtempSync(join(tmpdir(), "flotilla-cli-bulk-"));
    try {
      assert.equal((await cli(["queues", "pause", "q"])).code, 0);
      const file = join(dir, "tasks.jsonl");
      writeFileSync(file, Array.from({ length: 1203 }, (_, i) => JSON.stringify({ api: "openai", model: "m", messages: [{ role: "user", content: `n${i}` }] })).join("\n") + "\n\n");
      const { code, stdout, stderr } = await cli(["tasks", "add", "q", "--file", file, "--json"]);
      assert.equal(code, 0, stderr);
      const queued = JSON.parse(stdout) as Array<{ id: string; state: string }>;
      assert.equal(new Set(queued.map((t) => t.id)).size, 1203, "every line became its own task");
      assert.deepEqual(stderr.trim().split("\n"), ["queued 1000/1203", "queued 1203/1203"]);
      const first = JSON.parse((await cli(["tasks", "show", queued[0]?.id as string, "--json"])).stdout) as { data: { messages: Array<{ content: string }> } };
      assert.equal(first.data.messages[0]?.content, "n0", "in the file's order");
      const waiting = JSON.parse((await cli(["queues", "show", "q", "--json"])).stdout) as { counts: Record<string, number> };
      assert.equal(waiting.counts.pending, 1203);

      writeFileSync(file, '{"ok":1}\n{broken\n');
      const bad = await cli(["tasks", "add", "q", "--file", file]);
      assert.equal(bad.code, 2);
      assert.match(bad.stderr, /tasks\.jsonl:2: not JSON/);
      const tooMany = await gw.admin("/queue/bulk", { method: "POST", body: JSON.stringify({ queue: "q", tasks: Array.from({ length: 1001 }, () => ({ data: {} })) }) });
      assert.equal(tooMany.status, 400);
      const unknown = await gw.admin("/queue/bulk", { method: "POST", body: JSON.stringify({ queue: "nope", tasks: [{ data: {} }] }) });
      assert.equal(unknown.status, 404);
      assert.equal(((await (await gw.admin("/api/cli/queues/q")).json()) as { counts: Record<string, number> }).counts.pending, 1203, "nothing queued by the refused calls");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { simulators, startFlotilla, taskStores, waitFor, type Flotilla } from "./harness.js";

const sims = simulators();
let gw: Flotilla;

const chat = { model: "m", messages: [{ role: "user", content: "hi" }], stream: false };

/** The median of `n` interactive requests, one after another. */
async function interactiveMedian(n: number): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const started = performance.now();
    const res = await gw.admin("/api/chat", { method: "POST", body: JSON.stringify({ ...chat, messages: [{ role: "user", content: `q${i}` }] }) });
    await res.arrayBuffer();
    assert.equal(res.status, 200);
    times.push(performance.now() - started);
  }
  return times.sort((a, b) => a - b)[Math.floor(n / 2)];
}

for (const store of await taskStores()) {
  describe(`batch work leaves interactive requests their latency [${store.name}]`, { skip: store.skip }, () => {
    before(async () => {
      const sim = await sims.start({ kind: "ollama", models: ["m:latest"], loaded: ["m:latest"], latencyMs: 60 });
      gw = await startFlotilla({
        yaml: [
          "servers:",
          `  - { name: gpu, url: "${sim.url}", kind: ollama, max_concurrency: 2 }`,
          "queues:",
          "  - { name: bulk, concurrency: 8 }",
          "task_runner:\n  max_running: 8\n  poll_ms: 20",
        ].join("\n"),
        env: store.env,
      });
    });
    after(async () => {
      await gw.stop();
      await sims.closeAll();
      await store.cleanup();
    });

    test("with a saturating batch queue, an interactive request still finds its reserved slot", async () => {
      const idle = await interactiveMedian(9);
      for (let i = 0; i < 60; i++) {
        await gw.admin("/queue/add", { method: "POST", body: JSON.stringify({ queue: "bulk", data: { api: "ollama", ...chat, messages: [{ role: "user", content: `batch ${i}` }] } }) });
      }
      await waitFor("the batch queue running", async () => ((await (await gw.admin("/api/cli/queues/bulk")).json()) as { counts: { active: number } }).counts.active >= 1);
      const busy = await interactiveMedian(9);
      const queue = (await (await gw.admin("/api/cli/queues/bulk")).json()) as { counts: Record<string, number> };
      assert.ok(queue.counts.pending > 0, "the batch queue was still saturating the server while interactive requests ran");
      // Without the reserve an interactive request waits for a batch one to finish (~60 ms more); with it, it does not.
      assert.ok(busy < idle * 1.35 + 10, `interactive median ${busy.toFixed(1)} ms with batch work, ${idle.toFixed(1)} ms idle`);
      await waitFor("the batch done", async () => ((await (await gw.admin("/api/cli/queues/bulk")).json()) as { size: number }).size === 0, 30_000);
    });
  });
}

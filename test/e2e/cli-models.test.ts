import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { SimServer } from "../sim/index.js";
import { runCli, simulators, startFlotilla, type Flotilla } from "./harness.js";

const sims = simulators();
let gw: Flotilla;
let slow: SimServer;
let nodeName: string;

const cli = (args: string[]) => runCli(gw, args);

describe("flotilla models and transfers against a running gateway", () => {
  before(async () => {
    slow = await sims.start({ kind: "ollama", models: ["have:latest"], tokenIntervalMs: 120 });
    gw = await startFlotilla({ servers: [`${slow.url},ollama`] });
    nodeName = ((await (await gw.admin("/api/v1/nodes")).json()) as { nodes: Array<{ id: string }> }).nodes[0].id;
  });
  after(async () => {
    await gw.stop();
    await sims.closeAll();
  });

  test("models pull shows progress as it goes, ends at 100%, and says where the model went", async () => {
    const { code, stdout } = await cli(["models", "pull", "fresh:latest", "--node", nodeName]);
    assert.equal(code, 0);
    const lines = stdout.trim().split("\n");
    assert.ok(lines.length >= 3, `several progress lines:\n${stdout}`);
    assert.match(lines[0], /^fresh:latest → \S+ \[-{30}\]/);
    assert.match(lines.at(-2) as string, /\[#{30}\] 100\.0%  1\.00 GB \/ 1\.00 GB  success$/);
    assert.equal(lines.at(-1), `pulled fresh:latest onto ${nodeName}`);
  });

  test("--json prints the finished transfer; list shows models and transfers; failures exit non-zero with the reason", async () => {
    const pulled = await cli(["models", "pull", "other:latest", "--json"]);
    assert.equal(pulled.code, 0);
    const transfer = JSON.parse(pulled.stdout) as { status: string; percent: number; node: string };
    assert.deepEqual([transfer.status, transfer.percent, transfer.node], ["completed", 100, nodeName]);
    const listed = JSON.parse((await cli(["models", "list", "--json"])).stdout) as Array<{ name: string }>;
    assert.deepEqual(listed.map((m) => m.name).sort(), ["fresh:latest", "have:latest", "other:latest"]);
    const table = (await cli(["transfers", "list"])).stdout;
    assert.match(table.split("\n")[0], /^ID\s+MODEL\s+NODE\s+STATUS\s+PROGRESS\s+SOURCE$/);
    assert.equal(table.trim().split("\n").length, 3);

    const wrong = await cli(["models", "pull", "x:latest", "--node", "nowhere"]);
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /no node named "nowhere"/);
    assert.equal((await cli(["models", "pull"])).code, 2);
  });
});

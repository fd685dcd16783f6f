import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, afterEach, before, describe, test } from "node:test";
import { Ollama } from "ollama";
import OpenAI from "openai";
import { ADMIN_KEY, startFlotilla, type Flotilla } from "./harness.js";
import { nodes, startWorker, waitForNode, type WorkerProcess } from "./worker-harness.js";

const MAIN = join(process.cwd(), "dist/src/main.js");
let gw: Flotilla | undefined;
let agent: WorkerProcess | undefined;

afterEach(async () => {
  await agent?.stop("SIGKILL");
  agent = undefined;
  await gw?.stop();
  gw = undefined;
});

/**
 * The tiny model's weights are random: sampled freely, its first token is
 * sometimes the end. A fixed seed makes each answer the same every run.
 */
const SEED = 7;

/** What every real-inference test asks of a node serving `model`, through both official clients. */
async function exerciseClients(url: string, model: string): Promise<void> {
  const openai = new OpenAI({ baseURL: `${url}/v1`, apiKey: ADMIN_KEY });
  const completion = await openai.chat.completions.create({ model, messages: [{ role: "user", content: "hello" }], max_tokens: 12, seed: SEED });
  const text = completion.choices[0].message.content ?? "";
  assert.ok(text.trim().length > 0, "generated some text");
  assert.ok((completion.usage?.prompt_tokens ?? 0) > 0);
  assert.ok((completion.usage?.completion_tokens ?? 0) > 0 && (completion.usage?.completion_tokens ?? 0) <= 12);

  let streamed = "";
  let chunks = 0;
  for await (const chunk of await openai.chat.completions.create({ model, messages: [{ role: "user", content: "hi" }], max_tokens: 10, seed: SEED, stream: true })) {
    streamed += chunk.choices[0]?.delta?.content ?? "";
    chunks++;
  }
  assert.ok(chunks > 2 && streamed.length > 0, `streamed ${chunks} chunks`);

  const embeddings = await openai.embeddings.create({ model, input: ["one", "two"] });
  assert.equal(embeddings.data.length, 2);
  assert.equal(embeddings.data[0].embedding.length, 64);
  assert.notDeepEqual(embeddings.data[0].embedding, embeddings.data[1].embedding);

  const ollama = new Ollama({ host: url, headers: { authorization: `Bearer ${ADMIN_KEY}` } });
  const chat = await ollama.chat({ model, messages: [{ role: "user", content: "hello" }], options: { num_predict: 8, seed: SEED } });
  assert.ok(chat.message.content.length > 0);
  assert.ok(chat.eval_count > 0 && chat.eval_count <= 8);
  let generated = "";
  let parts = 0;
  for await (const part of await ollama.generate({ model, prompt: "once upon", stream: true, options: { num_predict: 8, seed: SEED } })) {
    generated += part.response;
    parts++;
  }
  assert.ok(parts > 2 && generated.length > 0);
  const embedded = await ollama.embed({ model, input: "hello" });
  assert.equal(embedded.embeddings[0].length, 64);
}

describe("the embedded llama.cpp engine", () => {
  test("a gateway with nothing configured generates the tiny model and serves it at once", async () => {
    gw = await startFlotilla({ env: { FLOTILLA_EMBEDDED__TINY: "auto" } });
    assert.match(gw.output(), /serving model "tiny" from the embedded engine: random weights/);
    assert.ok(statSync(join(gw.dataDir, "models", "tiny.gguf")).size > 0);
    const [node] = await nodes(gw);
    assert.deepEqual([node.name, node.kind, node.api, node.up, node.models], ["embedded", "embedded", "ollama", true, ["tiny:latest"]]);
    await exerciseClients(gw.url, "tiny");
  });

  test("servers configured: no tiny model unless asked for", async () => {
    gw = await startFlotilla({ servers: ["http://127.0.0.1:9,ollama"], env: { FLOTILLA_EMBEDDED__TINY: "auto" } });
    assert.deepEqual((await nodes(gw)).map((n) => n.name), ["127.0.0.1:9"]);
    assert.equal(existsSync(join(gw.dataDir, "models")), false);
  });
});

describe("a worker serving a GGUF file with the engine", () => {
  let dir: string;
  let model: string;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), "flotilla-gguf-"));
    model = join(dir, "tiny.gguf");
    const printed = execFileSync(process.execPath, [MAIN, "make-tiny-model", model], { encoding: "utf8" });
    assert.match(printed, /wrote .*tiny\.gguf \(\d+ KB, random weights/);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test("answers the openai and ollama clients, streaming and not, with embeddings", async () => {
    gw = await startFlotilla({ env: { FLOTILLA_CLIENT_KEY: "ck" } });
    agent = startWorker(["--server", gw.url, "--client-key", "ck", "--name", "cpu-box", "--model", `small=${model}`, "--max-concurrency", "2"]);
    await agent.waitForLog(/registered with .* as cpu-box/, 30_000);
    const view = await waitForNode(gw, "cpu-box");
    assert.deepEqual([view.kind, view.api, view.models], ["worker", "ollama", ["small:latest"]]);
    await exerciseClients(gw.url, "small");
  });
});

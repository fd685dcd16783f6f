import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { LocalResponse } from "./local-server.js";
import { LlamaEngine } from "./llama-engine.js";
import { tinyModel, writeTinyModel } from "./tiny-gguf.js";

let dir: string;
let engine: LlamaEngine;

async function post(path: string, body: unknown, signal = new AbortController().signal): Promise<LocalResponse> {
  return engine.handle({ method: "POST", path, body: Buffer.from(typeof body === "string" ? body : JSON.stringify(body)), signal });
}

async function text(res: LocalResponse): Promise<string> {
  let out = "";
  for await (const chunk of res.body) out += chunk.toString();
  return out;
}

const lines = async (res: LocalResponse) => (await text(res)).trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);

describe("the llama.cpp engine on the tiny model", () => {
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "flotilla-engine-"));
    await writeTinyModel(join(dir, "tiny.gguf"));
    engine = await LlamaEngine.open({ models: [{ name: "tiny", path: join(dir, "tiny.gguf") }], maxConcurrency: 2 });
  });
  after(async () => {
    await engine.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test("the generated file is the same bytes every time, and a GGUF v3", async () => {
    const bytes = readFileSync(join(dir, "tiny.gguf"));
    assert.deepEqual(bytes, tinyModel());
    assert.equal(bytes.subarray(0, 4).toString("ascii"), "GGUF");
    assert.equal(bytes.readUInt32LE(4), 3);
    assert.ok(bytes.length < 1024 * 1024);
  });

  test("lists the model as Ollama does, in tags and ps", async () => {
    const tags = JSON.parse(await text(await engine.handle({ method: "GET", path: "/api/tags", signal: new AbortController().signal }))) as {
      models: Array<{ name: string; digest: string; details: { format: string; family: string; quantization_level: string } }>;
    };
    assert.equal(tags.models[0].name, "tiny:latest");
    assert.match(tags.models[0].digest, /^[0-9a-f]{64}$/);
    assert.deepEqual([tags.models[0].details.format, tags.models[0].details.family, tags.models[0].details.quantization_level], ["gguf", "llama", "F32"]);
    const inventory = await engine.inventory();
    assert.deepEqual(inventory.loaded.map((m) => m.name), ["tiny:latest"]);
  });

  test("streams a chat as NDJSON ending in a record with real counts", async () => {
    const res = await post("/api/chat", { model: "tiny", messages: [{ role: "user", content: "hello there" }], options: { seed: 3, num_predict: 20 } });
    assert.equal(res.headers["content-type"], "application/x-ndjson");
    const records = await lines(res);
    const last = records.at(-1) as Record<string, number | string | boolean>;
    assert.equal(last.done, true);
    assert.ok(records.length >= 2);
    assert.ok((last.prompt_eval_count as number) > 3, "the prompt was templated and counted");
    const content = records.slice(0, -1).map((r) => (r.message as { content: string }).content).join("");
    assert.equal((last.eval_count as number) > 0, true);
    assert.ok(content.length > 0);
  });

  test("greedy decoding answers words; num_predict caps the answer and says length", async () => {
    const res = await post("/api/generate", { model: "tiny", prompt: "tell me", stream: false, options: { temperature: 0, num_predict: 5 } });
    const body = JSON.parse(await text(res)) as { response: string; eval_count: number; done_reason: string };
    assert.equal(body.eval_count, 5);
    assert.equal(body.done_reason, "length");
    assert.match(body.response, /^\s*\w+( \w+){4}$/);
  });

  test("an abort stops generation early", async () => {
    const abort = new AbortController();
    const res = await post("/api/generate", { model: "tiny", prompt: "go on", raw: true, options: { temperature: 0, num_predict: 400 } }, abort.signal);
    let chunks = 0;
    for await (const _ of res.body) {
      if (++chunks === 3) abort.abort();
    }
    assert.ok(chunks < 50, `stopped after ${chunks} chunks`);
  });

  test("requests beyond max_concurrency wait their turn and all finish", async () => {
    const replies = await Promise.all(
      Array.from({ length: 5 }, (_, i) => post("/api/generate", { model: "tiny", prompt: `n${i}`, stream: false, options: { num_predict: 10, seed: i } }).then(text)),
    );
    for (const reply of replies) assert.equal((JSON.parse(reply) as { done: boolean }).done, true);
  });

  test("embeds to 64 normalized dimensions, the same input to the same vector", async () => {
    const first = JSON.parse(await text(await post("/api/embed", { model: "tiny", input: ["sea", "ship"] }))) as { embeddings: number[][]; prompt_eval_count: number };
    const again = JSON.parse(await text(await post("/api/embed", { model: "tiny", input: "sea" }))) as { embeddings: number[][] };
    assert.equal(first.embeddings.length, 2);
    assert.equal(first.embeddings[0].length, 64);
    assert.ok(Math.abs(Math.hypot(...first.embeddings[0]) - 1) < 1e-4);
    assert.deepEqual(again.embeddings[0], first.embeddings[0]);
    assert.notDeepEqual(first.embeddings[0], first.embeddings[1]);
    assert.ok(first.prompt_eval_count >= 2);
    const legacy = JSON.parse(await text(await post("/api/embeddings", { model: "tiny", prompt: "sea" }))) as { embedding: number[] };
    assert.equal(legacy.embedding.length, 64);
  });

  test("an empty prompt loads; unknown models, bad JSON and unknown paths get Ollama errors", async () => {
    const load = JSON.parse(await text(await post("/api/generate", { model: "tiny", prompt: "" }))) as { done_reason: string };
    assert.equal(load.done_reason, "load");
    const missing = await post("/api/chat", { model: "nope", messages: [] });
    assert.equal(missing.status, 404);
    assert.deepEqual(JSON.parse(await text(missing)), { error: 'model "nope" not found, try pulling it first' });
    const bad = await post("/api/chat", "{not json");
    assert.equal(bad.status, 400);
    assert.match((JSON.parse(await text(bad)) as { error: string }).error, /invalid JSON/);
    const badOption = await post("/api/generate", { model: "tiny", prompt: "x", options: { temperature: "hot" } });
    assert.equal(badOption.status, 400);
    assert.equal((await post("/api/pull", { model: "tiny" })).status, 404);
  });
});

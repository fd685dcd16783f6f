import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { test, type TestContext } from "node:test";
import { fileURLToPath } from "node:url";
import { Ollama } from "ollama";
import OpenAI from "openai";
import { startSim, type SimOptions } from "./index.js";

/** A fresh request each time: the Ollama client writes `stream` into the object it is given. */
const chat = () => ({ model: "tiny", messages: [{ role: "user", content: "hi" }] });

async function sim(t: TestContext, options: SimOptions) {
  const server = await startSim(options);
  t.after(() => server.close());
  return server;
}

function post(url: string, body: unknown, signal?: AbortSignal) {
  return fetch(url, { method: "POST", body: JSON.stringify(body), signal });
}

async function waitFor(check: () => boolean, ms = 2000): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) assert.fail("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

test("an injected status answers the next N matching requests, in the kind's error shape, then the sim answers again", async (t) => {
  const ollama = await sim(t, { kind: "ollama" });
  ollama.fail({ path: "/api/chat", status: 503, times: 2 });
  const client = new Ollama({ host: ollama.url });
  for (let i = 0; i < 2; i++) await assert.rejects(client.chat(chat()), { status_code: 503, error: "injected failure" });
  assert.equal((await client.list()).models.length, 1, "another path is not affected");
  assert.equal((await client.chat(chat())).done, true);

  const openai = await sim(t, { kind: "openai" });
  openai.fail({ status: 429, body: { error: { message: "slow down", type: "rate_limit_error", param: null, code: null } }, times: 1 });
  const oai = new OpenAI({ baseURL: `${openai.url}/v1`, apiKey: "k", maxRetries: 0 });
  await assert.rejects(oai.chat.completions.create({ model: "tiny", messages: [{ role: "user", content: "hi" }] }), (err: InstanceType<typeof OpenAI.APIError>) => err.status === 429 && err.message.includes("slow down"));
  assert.equal((await oai.models.list()).data.length, 1);
});

test("a hang accepts and never answers: the client's timeout gives up, which counts as aborted", async (t) => {
  const server = await sim(t, { kind: "openai" });
  server.fail({ path: "/v1/chat/completions", hang: true, times: 1 });
  const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: "k", maxRetries: 0, timeout: 150 });
  await assert.rejects(client.chat.completions.create({ model: "tiny", messages: [{ role: "user", content: "hi" }] }), OpenAI.APIConnectionTimeoutError);
  await waitFor(() => server.aborted === 1 && server.inFlight === 0);
  assert.equal((await client.chat.completions.create({ model: "tiny", messages: [{ role: "user", content: "hi" }] })).choices.length, 1);
});

test("dropAfterChunks streams that many chunks, then cuts the connection; the sim's own drop is not an abort", async (t) => {
  const ollama = await sim(t, { kind: "ollama" });
  ollama.fail({ path: "/api/chat", dropAfterChunks: 3 });
  const parts: unknown[] = [];
  await assert.rejects(async () => {
    for await (const part of await new Ollama({ host: ollama.url }).chat({ ...chat(), stream: true })) parts.push(part);
  });
  assert.equal(parts.length, 3);

  const openai = await sim(t, { kind: "openai", tokenIntervalMs: 5 });
  openai.fail({ dropAfterChunks: 2 });
  const client = new OpenAI({ baseURL: `${openai.url}/v1`, apiKey: "k", maxRetries: 0 });
  let chunks = 0;
  await assert.rejects(async () => {
    for await (const _ of await client.chat.completions.create({ model: "tiny", messages: [{ role: "user", content: "hi" }], stream: true })) chunks++;
  });
  assert.equal(chunks, 2);
  await assert.rejects(client.chat.completions.create({ model: "tiny", messages: [{ role: "user", content: "hi" }] }), "a whole answer is cut too");
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.equal(ollama.aborted + openai.aborted, 0);
});

test("endAfterChunks ends a stream cleanly before its last chunk, and a whole body half-way; garbageAfterChunks puts a line that is not JSON in a stream", async (t) => {
  const ollama = await sim(t, { kind: "ollama" });
  ollama.fail({ path: "/api/chat", endAfterChunks: 3, times: 2 });
  const short = await post(`${ollama.url}/api/chat`, { ...chat(), stream: true });
  const lines = (await short.text()).trim().split("\n").map((l) => JSON.parse(l) as { done: boolean });
  assert.deepEqual(lines.map((l) => l.done), [false, false, false], "no done: true line");
  const half = await (await post(`${ollama.url}/api/chat`, { ...chat(), stream: false })).text();
  assert.throws(() => JSON.parse(half), SyntaxError);

  const openai = await sim(t, { kind: "openai" });
  openai.fail({ garbageAfterChunks: 1, times: 1 });
  const events = (await (await post(`${openai.url}/v1/chat/completions`, { ...chat(), stream: true })).text()).split("\n\n").filter(Boolean);
  assert.equal(events[1], "data: <html><body>502 Bad Gateway</body></html>");
  assert.equal(events.at(-1), "data: [DONE]", "the rest of the stream follows");
});

test("in-flight counts the requests being answered, not GET polls, and remembers the most at once", async (t) => {
  const server = await sim(t, { kind: "ollama", latencyMs: 150 });
  const answers = [1, 2, 3].map(() => post(`${server.url}/api/chat`, { ...chat(), stream: false }));
  const poll = fetch(`${server.url}/api/tags`);
  await waitFor(() => server.inFlight === 3);
  await Promise.all([...answers, poll]);
  assert.equal(server.inFlight, 0);
  assert.equal(server.maxInFlight, 3);
});

test("a client that goes away mid-stream is counted as aborted, and the stream stops", async (t) => {
  const server = await sim(t, { kind: "ollama", tokens: Array(50).fill("tok "), tokenIntervalMs: 20 });
  const controller = new AbortController();
  const res = await post(`${server.url}/api/chat`, chat(), controller.signal);
  await res.body?.getReader().read();
  controller.abort();
  await waitFor(() => server.aborted === 1);
  assert.equal(server.inFlight, 0);
});

test("a cold load delays the first requests for a model once, shares one load, and puts the model in /api/ps", async (t) => {
  const server = await sim(t, { kind: "ollama", coldLoadMs: 300, models: ["tiny", "other"], loaded: ["other"] });
  const client = new Ollama({ host: server.url });
  assert.deepEqual((await client.ps()).models.map((m) => m.name), ["other:latest"]);
  const started = performance.now();
  const [first, second] = await Promise.all([client.chat(chat()), client.chat(chat())]);
  const both = performance.now() - started;
  assert.ok(both >= 290 && both < 600, `two concurrent requests wait for one load, not two (${Math.round(both)} ms)`);
  assert.deepEqual([first.load_duration, second.load_duration], [300_000_000, 300_000_000]);
  assert.ok((await client.ps()).models.some((m) => m.name === "tiny:latest"));
  const warmStart = performance.now();
  const warm = await client.chat(chat());
  assert.ok(performance.now() - warmStart < 290, "loaded: no cold load");
  assert.equal(warm.load_duration, 0);
  const other = performance.now();
  await client.chat({ ...chat(), model: "other" });
  assert.ok(performance.now() - other < 290, "a model loaded at start has no cold load");
});

test("latencyMs delays every response head", async (t) => {
  const server = await sim(t, { kind: "openai", latencyMs: 120 });
  const started = performance.now();
  await fetch(`${server.url}/v1/models`);
  assert.ok(performance.now() - started >= 110);
});

test("setModels and setLoaded change what the server has and runs", async (t) => {
  const server = await sim(t, { kind: "ollama" });
  server.setModels(["a", "b:7b"]);
  server.setLoaded(["a"]);
  const client = new Ollama({ host: server.url });
  assert.deepEqual((await client.list()).models.map((m) => m.name), ["a:latest", "b:7b"]);
  assert.deepEqual((await client.ps()).models.map((m) => m.name), ["a:latest"]);
  assert.equal((await post(`${server.url}/api/chat`, { ...chat(), stream: false })).status, 404, "tiny is gone");
});

test("the CLI prints its address as one JSON line and stops on SIGTERM", async () => {
  const cli = fileURLToPath(new URL("./cli.js", import.meta.url));
  const proc = spawn(process.execPath, [cli, "--kind", "openai", "--port", "0", "--latency-ms", "1", "--answer-bytes", "1024", "--models", "bench-1k"], { stdio: ["ignore", "pipe", "inherit"] });
  const [line] = (await once(proc.stdout, "data")) as [Buffer];
  const { url, port } = JSON.parse(line.toString()) as { url: string; port: number };
  assert.equal(url, `http://127.0.0.1:${port}`);
  const res = await post(`${url}/v1/chat/completions`, { model: "bench-1k", messages: [{ role: "user", content: "hi" }] });
  const body = (await res.json()) as { choices: Array<{ message: { content: string } }> };
  assert.ok(body.choices[0].message.content.length >= 1024);
  proc.kill("SIGTERM");
  const [code] = (await once(proc, "exit")) as [number | null];
  assert.equal(code, 0);
});

test("under a base path the sim answers only there, as a server behind a reverse proxy, and its url ends with the path", async (t) => {
  const server = await sim(t, { kind: "openai", basePath: "/gpu/vllm" });
  assert.equal(server.url, `http://127.0.0.1:${server.port}/gpu/vllm`);
  const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: "x" });
  assert.equal((await client.chat.completions.create({ model: "tiny", messages: [{ role: "user", content: "hi" }] })).object, "chat.completion");
  assert.equal((await fetch(`http://127.0.0.1:${server.port}/v1/models`)).status, 404);
  assert.deepEqual(
    server.requests.map((r) => r.path),
    ["/gpu/vllm/v1/chat/completions", "/v1/models"],
  );
});

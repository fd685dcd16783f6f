import assert from "node:assert/strict";
import { test, type TestContext } from "node:test";
import { Ollama } from "ollama";
import { startSim, type SimOptions } from "./index.js";

const ANSWER = "The quick brown fox jumps over lazy dogs.";
const WEATHER_TOOL = {
  type: "function",
  function: { name: "get_weather", description: "", parameters: { type: "object", properties: { city: { type: "string", description: "" } }, required: ["city"] } },
};

async function ollamaSim(t: TestContext, options: Partial<SimOptions> = {}) {
  const sim = await startSim({ kind: "ollama", ...options });
  t.after(() => sim.close());
  const post = (path: string, body: unknown, method = "POST") => fetch(sim.url + path, { method, body: JSON.stringify(body) });
  return { sim, client: new Ollama({ host: sim.url }), post };
}

test("chat answers whole and streamed, ending with Ollama's counts", async (t) => {
  const { client } = await ollamaSim(t);
  const whole = await client.chat({ model: "tiny", messages: [{ role: "user", content: "tell me a story" }] });
  assert.equal(whole.model, "tiny", "Ollama echoes the name it was sent");
  assert.equal(whole.message.content, ANSWER);
  assert.equal(whole.done_reason, "stop");
  assert.equal(whole.prompt_eval_count, 4, "the prompt's words");
  assert.equal(whole.eval_count, 8, "the answer's tokens");
  assert.ok(whole.total_duration > 0 && whole.eval_duration > 0);

  const parts = [];
  for await (const part of await client.chat({ model: "tiny:latest", messages: [{ role: "user", content: "hi" }], stream: true })) parts.push(part);
  assert.equal(parts.length, 9, "eight tokens and the final line");
  assert.equal(parts.map((p) => p.message.content).join(""), ANSWER);
  assert.deepEqual([parts.at(-1)?.done, parts.at(-1)?.done_reason, parts.at(-1)?.eval_count], [true, "stop", 8]);
});

test("generate streams by default; num_predict cuts the answer with done_reason length", async (t) => {
  const { client, post } = await ollamaSim(t);
  const lines = (await (await post("/api/generate", { model: "tiny", prompt: "go" })).text()).trim().split("\n");
  assert.equal(lines.length, 9, "Ollama streams unless stream is false");
  const cut = await client.generate({ model: "tiny", prompt: "go on", options: { num_predict: 3 } });
  assert.equal(cut.response, "The quick brown");
  assert.equal(cut.done_reason, "length");
  assert.equal(cut.eval_count, 3);
  assert.equal(cut.prompt_eval_count, 2);
  assert.ok(cut.context.length > 0);
});

test("think: true adds a thinking field, streamed before the content", async (t) => {
  const { client } = await ollamaSim(t);
  const whole = await client.chat({ model: "tiny", messages: [{ role: "user", content: "hm" }], think: true });
  assert.equal(whole.message.thinking, "Thinking it over.");
  assert.equal(whole.message.content, ANSWER);
  const parts = [];
  for await (const part of await client.generate({ model: "tiny", prompt: "hm", think: true, stream: true })) parts.push(part);
  assert.equal(parts.map((p) => p.thinking ?? "").join(""), "Thinking it over.");
  assert.equal(parts[0].response, "", "thinking comes first");
  assert.equal(parts.map((p) => p.response).join(""), ANSWER);
});

test("scripted tool calls answer the next chat offering tools, with object arguments, once", async (t) => {
  const { sim, client } = await ollamaSim(t);
  sim.scriptToolCalls([{ name: "get_weather", arguments: { city: "Oslo" } }]);
  const plain = await client.chat({ model: "tiny", messages: [{ role: "user", content: "hi" }] });
  assert.equal(plain.message.content, ANSWER, "a chat without tools does not take the script");
  const called = await client.chat({ model: "tiny", messages: [{ role: "user", content: "weather?" }], tools: [WEATHER_TOOL] });
  assert.equal(called.message.content, "");
  assert.deepEqual(called.message.tool_calls, [{ function: { name: "get_weather", arguments: { city: "Oslo" } } }]);
  const after = await client.chat({ model: "tiny", messages: [{ role: "user", content: "again" }], tools: [WEATHER_TOOL] });
  assert.equal(after.message.content, ANSWER, "the script is used once");

  sim.scriptToolCalls([{ name: "get_weather", arguments: { city: "Bergen" } }]);
  const streamed = [];
  for await (const part of await client.chat({ model: "tiny", messages: [{ role: "user", content: "w" }], tools: [WEATHER_TOOL], stream: true })) streamed.push(part);
  assert.deepEqual(streamed[0].message.tool_calls?.[0].function.arguments, { city: "Bergen" });
  assert.equal(streamed.at(-1)?.done, true);
});

test("embed gives one deterministic unit vector of 8 floats per input; the legacy endpoint too", async (t) => {
  const { client } = await ollamaSim(t);
  const res = await client.embed({ model: "tiny", input: ["one", "two", "one"] });
  assert.equal(res.model, "tiny");
  assert.equal(res.embeddings.length, 3);
  assert.ok(res.embeddings.every((v) => v.length === 8));
  assert.deepEqual(res.embeddings[0], res.embeddings[2]);
  assert.notDeepEqual(res.embeddings[0], res.embeddings[1]);
  assert.ok(Math.abs(Math.hypot(...res.embeddings[0]) - 1) < 1e-6, "normalized, as Ollama's are");
  assert.equal(res.prompt_eval_count, 3);
  assert.deepEqual((await client.embed({ model: "tiny", input: "one" })).embeddings, [res.embeddings[0]]);
  assert.deepEqual((await client.embeddings({ model: "tiny", prompt: "one" })).embedding, res.embeddings[0]);
});

test("pull streams progress, then the model is listed; with stream false only success is answered", async (t) => {
  const { client } = await ollamaSim(t);
  const parts = [];
  for await (const part of await client.pull({ model: "fresh:7b", stream: true })) parts.push(part);
  const statuses = parts.map((p) => p.status);
  assert.equal(statuses[0], "pulling manifest");
  assert.ok(parts.filter((p) => p.status.startsWith("pulling ") && p.digest?.startsWith("sha256:") && p.total > 0).length >= 4);
  assert.ok(parts.some((p) => p.completed === p.total));
  assert.deepEqual(statuses.slice(-3), ["verifying sha256 digest", "writing manifest", "success"]);
  const listed = (await client.list()).models;
  assert.equal(listed[0].name, "fresh:7b", "the newest model is listed first");
  assert.equal(listed[0].details.parameter_size, "7B");
  assert.deepEqual(await client.pull({ model: "other" }), { status: "success" });
  assert.ok((await client.list()).models.some((m) => m.name === "other:latest"));
});

test("a model not present answers 404 as Ollama does; name and name:latest are one model", async (t) => {
  const { post } = await ollamaSim(t, { models: ["llama3"] });
  for (const path of ["/api/chat", "/api/generate", "/api/embed"]) {
    const res = await post(path, { model: "missing", messages: [{ role: "user", content: "x" }], prompt: "x", input: "x" });
    assert.equal(res.status, 404, path);
    assert.equal(await res.text(), '{"error":"model \\"missing\\" not found, try pulling it first"}');
  }
  assert.equal((await post("/api/chat", { model: "LLAMA3:latest", messages: [{ role: "user", content: "x" }], stream: false })).status, 200);
  assert.equal((await post("/api/generate", { model: "llama3", prompt: "x", stream: false })).status, 200);
  const shown = await post("/api/show", { model: "nope" });
  assert.deepEqual([shown.status, await shown.json()], [404, { error: "model 'nope' not found" }]);
});

test("show, create, copy, push and delete manage models with Ollama's answers", async (t) => {
  const { client, post } = await ollamaSim(t);
  const shown = await client.show({ model: "tiny" });
  assert.equal(shown.details.format, "gguf");
  assert.ok(shown.capabilities.includes("completion"));
  const statuses = [];
  for await (const part of await client.create({ model: "mine", from: "tiny", system: "Be brief.", stream: true })) statuses.push(part.status);
  assert.match(statuses[0], /^using existing layer sha256:[0-9a-f]{64}$/);
  assert.ok(statuses.some((s) => s.startsWith("creating new layer")));
  assert.deepEqual(statuses.slice(-2), ["writing manifest", "success"]);
  const neither = await post("/api/create", { model: "x" });
  assert.deepEqual([neither.status, await neither.json()], [400, { error: "neither 'from' or 'files' was specified" }]);
  await client.copy({ source: "mine", destination: "mine-copy" });
  const models = (await client.list()).models;
  assert.equal(models.find((m) => m.name === "mine-copy:latest")?.digest, models.find((m) => m.name === "mine:latest")?.digest, "a copy shares its digest");
  const missingCopy = await post("/api/copy", { source: "nope", destination: "x" });
  assert.deepEqual([missingCopy.status, await missingCopy.json()], [404, { error: 'model "nope" not found' }]);
  assert.equal((await client.push({ model: "mine" })).status, "success");
  await client.delete({ model: "mine" });
  assert.ok(!(await client.list()).models.some((m) => m.name === "mine:latest"));
  const missing = await post("/api/delete", { model: "mine" }, "DELETE");
  assert.deepEqual([missing.status, await missing.json()], [404, { error: "model 'mine' not found" }]);
});

test("blobs are kept in memory: HEAD is 404 until a POST stores one", async (t) => {
  const { sim } = await ollamaSim(t);
  const url = `${sim.url}/api/blobs/sha256:${"ab".repeat(32)}`;
  assert.equal((await fetch(url, { method: "HEAD" })).status, 404);
  assert.equal((await fetch(url, { method: "POST", body: "gguf bytes" })).status, 201);
  assert.equal((await fetch(url, { method: "HEAD" })).status, 200);
  assert.equal((await fetch(url, { method: "POST", body: "gguf bytes" })).status, 200, "a blob already there");
  assert.equal((await fetch(`${sim.url}/api/blobs/sha256:xyz`, { method: "HEAD" })).status, 400);
});

test("the root page, version, ps and unknown routes answer as Ollama's server does", async (t) => {
  const { sim, client, post } = await ollamaSim(t, { version: "0.9.9", loaded: ["tiny"] });
  assert.equal(await (await fetch(sim.url)).text(), "Ollama is running");
  assert.deepEqual(await client.version(), { version: "0.9.9" });
  const [running] = (await client.ps()).models;
  assert.equal(running.name, "tiny:latest");
  assert.ok(running.size_vram > 0 && Date.parse(String(running.expires_at)) > Date.now());
  const unknown = await fetch(`${sim.url}/api/nothing`);
  assert.deepEqual([unknown.status, await unknown.text()], [404, "404 page not found"]);
  assert.equal((await fetch(`${sim.url}/api/chat`)).status, 405);
  const noBody = await fetch(`${sim.url}/api/chat`, { method: "POST" });
  assert.deepEqual([noBody.status, await noBody.json()], [400, { error: "missing request body" }]);
  assert.equal((await post("/v1/chat/completions", { model: "tiny", messages: [{ role: "user", content: "x" }] })).status, 200, "Ollama also speaks OpenAI under /v1");
});

test("an empty chat loads the model into /api/ps; keep_alive 0 unloads it", async (t) => {
  const { client } = await ollamaSim(t);
  assert.equal((await client.ps()).models.length, 0);
  const loaded = await client.chat({ model: "tiny", messages: [] });
  assert.equal(loaded.done_reason, "load");
  assert.equal((await client.ps()).models.length, 1);
  const unloaded = await client.generate({ model: "tiny", prompt: "", keep_alive: 0 });
  assert.equal(unloaded.done_reason, "unload");
  assert.equal((await client.ps()).models.length, 0);
});

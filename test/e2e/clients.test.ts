import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Ollama } from "ollama";
import OpenAI from "openai";
import { startSim, type SimServer } from "../sim/index.js";
import { ADMIN_KEY, startFlotilla, type Flotilla } from "./harness.js";

/**
 * The official clients, unchanged, against one gateway in front of an Ollama
 * server (model "olm") and an OpenAI-compatible server (model "oai"): every
 * call to "oai" from the Ollama client and to "olm" from the OpenAI client is
 * translated.
 */
describe("official clients through the gateway", () => {
  let ollamaSim: SimServer;
  let openaiSim: SimServer;
  let gw: Flotilla;
  let openai: OpenAI;
  let ollama: Ollama;

  before(async () => {
    ollamaSim = await startSim({ kind: "ollama", models: ["olm:latest"], tokens: ["Hello", " from", " ollama"] });
    openaiSim = await startSim({ kind: "openai", models: ["oai"], tokens: ["Hello", " from", " openai"] });
    gw = await startFlotilla({ servers: [`${ollamaSim.url},ollama`, `${openaiSim.url},openai`] });
    openai = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: ADMIN_KEY, maxRetries: 0 });
    ollama = new Ollama({ host: gw.url, headers: { Authorization: `Bearer ${ADMIN_KEY}` } });
  });

  after(async () => {
    await gw?.stop();
    await ollamaSim?.close();
    await openaiSim?.close();
  });

  for (const model of ["olm", "oai"]) {
    const answer = model === "olm" ? "Hello from ollama" : "Hello from openai";

    test(`OpenAI client: chat completion from ${model}`, async () => {
      const res = await openai.chat.completions.create({ model, messages: [{ role: "user", content: "hi there" }] });
      assert.equal(res.object, "chat.completion");
      assert.equal(res.choices[0].message.content, answer);
      assert.equal(res.choices[0].finish_reason, "stop");
      assert.ok((res.usage?.completion_tokens ?? 0) > 0, "usage is reported");
    });

    test(`OpenAI client: streamed chat from ${model} with include_usage`, async () => {
      const stream = await openai.chat.completions.create({
        model,
        messages: [{ role: "user", content: "hi" }],
        stream: true,
        stream_options: { include_usage: true },
      });
      let text = "";
      let finish: string | null = null;
      let usage: OpenAI.CompletionUsage | undefined;
      for await (const chunk of stream) {
        text += chunk.choices[0]?.delta?.content ?? "";
        finish = chunk.choices[0]?.finish_reason ?? finish;
        usage = chunk.usage ?? usage;
      }
      assert.equal(text, answer);
      assert.equal(finish, "stop");
      assert.ok(usage && usage.completion_tokens > 0);
    });

    test(`OpenAI client: streamed tool calls from ${model} carry their index`, async () => {
      const sim = model === "olm" ? ollamaSim : openaiSim;
      sim.scriptToolCalls([
        { name: "get_weather", arguments: { city: "Paris" } },
        { name: "get_time", arguments: { zone: "CET" } },
      ]);
      const stream = await openai.chat.completions.create({
        model,
        stream: true,
        messages: [{ role: "user", content: "weather and time?" }],
        tools: [
          { type: "function", function: { name: "get_weather", parameters: { type: "object", properties: { city: { type: "string" } } } } },
          { type: "function", function: { name: "get_time", parameters: { type: "object", properties: { zone: { type: "string" } } } } },
        ],
      });
      const calls = new Map<number, { name: string; args: string }>();
      let finish: string | null = null;
      for await (const chunk of stream) {
        for (const call of chunk.choices[0]?.delta?.tool_calls ?? []) {
          assert.equal(typeof call.index, "number", "every streamed tool call has an index");
          const entry = calls.get(call.index) ?? { name: "", args: "" };
          entry.name += call.function?.name ?? "";
          entry.args += call.function?.arguments ?? "";
          calls.set(call.index, entry);
        }
        finish = chunk.choices[0]?.finish_reason ?? finish;
      }
      assert.equal(finish, "tool_calls");
      assert.deepEqual(
        [...calls.values()].map((c) => [c.name, JSON.parse(c.args)]),
        [
          ["get_weather", { city: "Paris" }],
          ["get_time", { zone: "CET" }],
        ],
      );
    });

    test(`OpenAI client: embeddings from ${model}`, async () => {
      const res = await openai.embeddings.create({ model, input: ["one", "two", "one"] });
      assert.equal(res.data.length, 3);
      assert.deepEqual(res.data.map((d) => d.index), [0, 1, 2]);
      assert.deepEqual(res.data[0].embedding, res.data[2].embedding);
      assert.notDeepEqual(res.data[0].embedding, res.data[1].embedding);
    });

    test(`Ollama client: chat from ${model}, streamed and not`, async () => {
      const whole = await ollama.chat({ model, messages: [{ role: "user", content: "hi" }] });
      assert.equal(whole.message.content, answer);
      assert.equal(whole.done, true);
      assert.ok(whole.eval_count > 0);
      let text = "";
      let last: { done: boolean; eval_count?: number } | undefined;
      for await (const part of await ollama.chat({ model, messages: [{ role: "user", content: "hi" }], stream: true })) {
        text += part.message.content;
        last = part;
      }
      assert.equal(text, answer);
      assert.equal(last?.done, true);
      assert.ok((last?.eval_count ?? 0) > 0);
    });

    test(`Ollama client: generate and embed from ${model}`, async () => {
      const generated = await ollama.generate({ model, prompt: "say hello" });
      assert.equal(generated.response, answer);
      const embedded = await ollama.embed({ model, input: ["a", "b"] });
      assert.equal(embedded.embeddings.length, 2);
      assert.ok(embedded.embeddings[0].length > 0);
    });

    test(`Ollama client: tool calls from ${model} arrive as objects`, async () => {
      const sim = model === "olm" ? ollamaSim : openaiSim;
      sim.scriptToolCalls([{ name: "get_weather", arguments: { city: "Oslo" } }]);
      const res = await ollama.chat({
        model,
        messages: [{ role: "user", content: "weather?" }],
        tools: [{ type: "function", function: { name: "get_weather", description: "", parameters: { type: "object", properties: { city: { type: "string", description: "" } }, required: ["city"] } } }],
      });
      assert.equal(res.message.tool_calls?.[0].function.name, "get_weather");
      assert.deepEqual(res.message.tool_calls?.[0].function.arguments, { city: "Oslo" });
    });
  }

  test("OpenAI client: completions from both kinds", async () => {
    for (const model of ["olm", "oai"]) {
      const res = await openai.completions.create({ model, prompt: "Once upon" });
      assert.equal(res.object, "text_completion");
      assert.ok(res.choices[0].text.length > 0);
    }
  });

  test("the model list joins every server's models, on /v1 and /api/v1", async () => {
    const ids = (await openai.models.list()).data.map((m) => m.id).sort();
    assert.deepEqual(ids, ["oai", "olm:latest"]);
    const alias = new OpenAI({ baseURL: `${gw.url}/api/v1`, apiKey: ADMIN_KEY, maxRetries: 0 });
    const model = await alias.models.retrieve("oai");
    assert.equal(model.id, "oai");
    assert.deepEqual((model as unknown as { nodes: string[] }).nodes, [new URL(openaiSim.url).host]);
    await assert.rejects(openai.models.retrieve("missing"), (err: InstanceType<typeof OpenAI.APIError>) => err.status === 404);
  });

  test("Ollama client: list and ps join the fleet; show answers for either kind", async () => {
    const list = await ollama.list();
    assert.deepEqual(list.models.map((m) => m.name).sort(), ["oai", "olm:latest"]);
    const ps = await ollama.ps();
    assert.ok(ps.models.some((m) => m.name === "oai"));
    const shown = await ollama.show({ model: "olm" });
    assert.ok(shown.details);
    const synthesized = await ollama.show({ model: "oai" });
    assert.ok(Array.isArray(synthesized.capabilities));
  });

  test("Ollama client: pull streams progress and the model then appears", async () => {
    const statuses: string[] = [];
    for await (const part of await ollama.pull({ model: "fresh:7b", stream: true })) statuses.push(part.status);
    assert.ok(statuses.length > 2);
    assert.equal(statuses.at(-1), "success");
    const answer = await ollama.chat({ model: "fresh:7b", messages: [{ role: "user", content: "hi" }] });
    assert.equal(answer.message.content, "Hello from ollama", "a model pulled a moment ago is routable at once");
    const list = await ollama.list();
    assert.ok(list.models.some((m) => m.name === "fresh:7b"));
    await ollama.delete({ model: "fresh:7b" });
    assert.ok(!(await ollama.list()).models.some((m) => m.name === "fresh:7b"));
  });

  test("Ollama client: create, copy and push reach the Ollama server; a blob upload lands where create looks", async () => {
    const digest = `sha256:${"ab".repeat(32)}`;
    const head = () => gw.admin(`/api/blobs/${digest}`, { method: "HEAD" });
    assert.equal((await head()).status, 404);
    const upload = await gw.admin(`/api/blobs/${digest}`, { method: "POST", body: Buffer.from("gguf bytes"), headers: { "content-type": "application/octet-stream" } });
    assert.equal(upload.status, 201);
    assert.equal((await head()).status, 200);
    assert.equal(ollamaSim.requests.filter((r) => r.path === `/api/blobs/${digest}`).length, 3, "all blob calls went to the one Ollama server");

    // ollama-js 0.6 types `create` without Ollama's `files` field, which the API takes.
    const request = { model: "mine:1", from: "olm", files: { "model.gguf": digest } };
    const created = await ollama.create(request);
    assert.equal(created.status, "success");
    await ollama.copy({ source: "mine:1", destination: "mine:copy" });
    const names = (await ollama.list()).models.map((m) => m.name);
    assert.ok(names.includes("mine:1") && names.includes("mine:copy"), names.join(","));
    const pushed = await ollama.push({ model: "mine:1" });
    assert.equal(pushed.status, "success");
    const missing = await gw.admin("/api/copy", { method: "POST", body: JSON.stringify({ source: "nope", destination: "x" }) });
    assert.equal(missing.status, 404);
  });

  test("Ollama-only operations on an OpenAI-kind server get a clear 4xx", async () => {
    const res = await gw.admin("/api/pull", {
      method: "POST",
      headers: { "x-ollama-pin-server": new URL(openaiSim.url).host },
      body: JSON.stringify({ model: "x" }),
    });
    assert.equal(res.status, 400);
    const body = (await res.json()) as { error: string; code: string };
    assert.equal(body.code, "unsupported_operation");
    assert.match(body.error, /Ollama server/);
  });
});

import assert from "node:assert/strict";
import { test, type TestContext } from "node:test";
import OpenAI from "openai";
import { startSim, type SimOptions } from "./index.js";

const ANSWER = "The quick brown fox jumps over lazy dogs.";
const MESSAGES = [{ role: "user" as const, content: "tell me a story" }];
const WEATHER_TOOL = { type: "function" as const, function: { name: "get_weather", parameters: { type: "object", properties: { city: { type: "string" } } } } };

async function openaiSim(t: TestContext, options: Partial<SimOptions> = {}) {
  const sim = await startSim({ kind: "openai", ...options });
  t.after(() => sim.close());
  const client = new OpenAI({ baseURL: `${sim.url}/v1`, apiKey: "sk-upstream", maxRetries: 0 });
  return { sim, client };
}

test("lists models and one by id; an unknown model is OpenAI's 404 model_not_found", async (t) => {
  const { sim, client } = await openaiSim(t, { models: ["a", "b"] });
  assert.deepEqual((await client.models.list()).data.map((m) => m.id).sort(), ["a", "b"]);
  assert.equal((await client.models.retrieve("a")).object, "model");
  const res = await fetch(`${sim.url}/v1/chat/completions`, { method: "POST", body: JSON.stringify({ model: "x", messages: MESSAGES }) });
  assert.equal(res.status, 404);
  assert.deepEqual(await res.json(), {
    error: { message: "The model `x` does not exist.", type: "invalid_request_error", param: "model", code: "model_not_found" },
  });
  await assert.rejects(client.chat.completions.create({ model: "a:latest", messages: MESSAGES }), (err: InstanceType<typeof OpenAI.NotFoundError>) => err.status === 404, "ids match exactly");
});

test("chat completions answer whole and streamed, with a usage chunk when include_usage asks", async (t) => {
  const { client } = await openaiSim(t);
  const whole = await client.chat.completions.create({ model: "tiny", messages: MESSAGES });
  assert.equal(whole.object, "chat.completion");
  assert.equal(whole.choices[0].message.content, ANSWER);
  assert.equal(whole.choices[0].finish_reason, "stop");
  assert.deepEqual(whole.usage, { prompt_tokens: 4, completion_tokens: 8, total_tokens: 12 });

  const chunks: OpenAI.Chat.Completions.ChatCompletionChunk[] = [];
  for await (const chunk of await client.chat.completions.create({ model: "tiny", messages: MESSAGES, stream: true, stream_options: { include_usage: true } })) chunks.push(chunk);
  assert.ok(chunks.every((c) => c.object === "chat.completion.chunk" && c.id === chunks[0].id));
  assert.equal(chunks[0].choices[0].delta.role, "assistant", "the role comes in the first delta");
  assert.equal(chunks.map((c) => c.choices[0]?.delta.content ?? "").join(""), ANSWER);
  assert.equal(chunks.at(-2)?.choices[0].finish_reason, "stop");
  assert.deepEqual(chunks.at(-1)?.choices, []);
  assert.equal(chunks.at(-1)?.usage?.completion_tokens, 8);
});

test("max_tokens cuts the answer with finish_reason length; answerBytes pads only the whole answer", async (t) => {
  const { client } = await openaiSim(t, { answerBytes: 1024 });
  const cut = await client.chat.completions.create({ model: "tiny", messages: MESSAGES, max_tokens: 2 });
  assert.deepEqual([cut.choices[0].message.content, cut.choices[0].finish_reason], ["The quick", "length"]);
  const padded = await client.chat.completions.create({ model: "tiny", messages: MESSAGES });
  const size = Buffer.byteLength(padded.choices[0].message.content ?? "");
  assert.ok(size >= 1024 && size < 1040, `about 1 KB, got ${size}`);
  assert.ok(padded.choices[0].message.content?.startsWith(`${ANSWER} The quick`));
  let streamed = "";
  for await (const chunk of await client.chat.completions.create({ model: "tiny", messages: MESSAGES, stream: true })) streamed += chunk.choices[0]?.delta.content ?? "";
  assert.equal(streamed, ANSWER);
});

test("tool calls stream as OpenAI does: id and name first, then argument fragments, each with its index", async (t) => {
  const { sim, client } = await openaiSim(t);
  sim.scriptToolCalls([{ name: "get_weather", arguments: { city: "Oslo", unit: "celsius" } }, { name: "get_time", arguments: { zone: "CET" } }]);
  const calls: Array<{ id?: string; name: string; args: string; pieces: number }> = [];
  let finish: string | null = null;
  for await (const chunk of await client.chat.completions.create({ model: "tiny", messages: MESSAGES, tools: [WEATHER_TOOL], stream: true })) {
    for (const delta of chunk.choices[0]?.delta.tool_calls ?? []) {
      assert.equal(typeof delta.index, "number");
      calls[delta.index] ??= { id: delta.id, name: "", args: "", pieces: 0 };
      calls[delta.index].name += delta.function?.name ?? "";
      if (delta.function?.arguments) {
        calls[delta.index].args += delta.function.arguments;
        calls[delta.index].pieces++;
      }
    }
    finish = chunk.choices[0]?.finish_reason ?? finish;
  }
  assert.equal(finish, "tool_calls");
  assert.deepEqual(calls.map((c) => [c.name, JSON.parse(c.args)]), [["get_weather", { city: "Oslo", unit: "celsius" }], ["get_time", { zone: "CET" }]]);
  assert.ok(calls.every((c) => c.pieces >= 2 && c.id?.startsWith("call_")), "arguments arrive in several fragments");

  sim.scriptToolCalls([{ name: "get_weather", arguments: { city: "Oslo" } }]);
  const whole = await client.chat.completions.create({ model: "tiny", messages: MESSAGES, tools: [WEATHER_TOOL] });
  const [call] = whole.choices[0].message.tool_calls ?? [];
  assert.equal(whole.choices[0].message.content, null);
  assert.deepEqual(call.type === "function" && [call.function.name, JSON.parse(call.function.arguments)], ["get_weather", { city: "Oslo" }]);
});

test("legacy completions answer whole and streamed", async (t) => {
  const { client } = await openaiSim(t);
  const whole = await client.completions.create({ model: "tiny", prompt: "Once upon a time" });
  assert.equal(whole.object, "text_completion");
  assert.equal(whole.choices[0].text, ANSWER);
  assert.equal(whole.usage?.prompt_tokens, 4);
  let text = "";
  for await (const chunk of await client.completions.create({ model: "tiny", prompt: "Once", stream: true })) text += chunk.choices[0]?.text ?? "";
  assert.equal(text, ANSWER);
});

test("embeddings as floats and as base64 carry the same deterministic vectors", async (t) => {
  const { sim, client } = await openaiSim(t);
  const viaClient = await client.embeddings.create({ model: "tiny", input: ["one", "two", "one"] });
  assert.equal((sim.requests.at(-1)?.body as { encoding_format?: string }).encoding_format, "base64", "the client asks for base64");
  const res = await fetch(`${sim.url}/v1/embeddings`, { method: "POST", body: JSON.stringify({ model: "tiny", input: ["one", "two", "one"] }) });
  const floats = (await res.json()) as { data: Array<{ embedding: number[]; index: number }>; usage: { prompt_tokens: number } };
  assert.deepEqual(viaClient.data.map((d) => d.embedding), floats.data.map((d) => d.embedding));
  assert.deepEqual(floats.data.map((d) => d.index), [0, 1, 2]);
  assert.deepEqual(floats.data[0].embedding, floats.data[2].embedding);
  assert.notDeepEqual(floats.data[0].embedding, floats.data[1].embedding);
  assert.equal(floats.data[0].embedding.length, 8);
  assert.equal(floats.usage.prompt_tokens, 3);
});

test("every request is recorded in order, with its headers (the upstream api_key) and parsed body", async (t) => {
  const { sim, client } = await openaiSim(t);
  await client.models.list();
  await client.chat.completions.create({ model: "tiny", messages: MESSAGES });
  assert.deepEqual(sim.requests.map((r) => `${r.method} ${r.path}`), ["GET /v1/models", "POST /v1/chat/completions"]);
  assert.equal(sim.requests[1].headers.authorization, "Bearer sk-upstream");
  assert.deepEqual((sim.requests[1].body as { messages: unknown }).messages, MESSAGES);
  const unknown = await fetch(`${sim.url}/v1/unknown`, { method: "POST", body: "{}" });
  assert.deepEqual([unknown.status, ((await unknown.json()) as { error: { message: string } }).error.message], [404, "Invalid URL (POST /v1/unknown)"]);
});

import assert from "node:assert/strict";
import { test } from "node:test";
import { translateRequest, TranslationError, upstreamErrorMessage, usageFromPassthrough, wantsStream } from "./index.js";
import type { StreamTranslator } from "./types.js";

const ctx = { requestId: "r1", created: 1_700_000_000 };
const PNG = "iVBORw0KGgoAAAANSUhEUg";

/** Feeds a stream one byte-sliced piece at a time, so every line and event is split across chunks. */
function runStream(translator: StreamTranslator, wire: string, piece = 7): string {
  const bytes = Buffer.from(wire);
  let out = "";
  for (let i = 0; i < bytes.length; i += piece) out += translator.push(bytes.subarray(i, i + piece));
  return out + translator.end();
}

const sseEvents = (text: string) =>
  text.split("\n\n").filter(Boolean).map((e) => (e === "data: [DONE]" ? "[DONE]" : JSON.parse(e.replace(/^data: /, ""))));
const ndLines = (text: string) => text.trim().split("\n").map((l) => JSON.parse(l));

test("an Ollama chat becomes an OpenAI chat completion with options mapped through the table", () => {
  const t = translateRequest(
    "/api/chat",
    {
      model: "m",
      messages: [
        { role: "user", content: "look", images: [PNG] },
        { role: "assistant", content: "", tool_calls: [{ function: { name: "f", arguments: { a: 1 } } }] },
        { role: "tool", content: "42", tool_name: "f" },
      ],
      options: { temperature: 0.2, num_predict: 9, repeat_penalty: 1.1, num_ctx: 4096 },
      format: "json",
      think: "high",
    },
    ctx,
  );
  assert.equal(t.path, "/v1/chat/completions");
  assert.equal(t.stream, true, "Ollama streams by default");
  assert.deepEqual(t.body, {
    model: "m",
    messages: [
      { role: "user", content: [{ type: "text", text: "look" }, { type: "image_url", image_url: { url: `data:image/png;base64,${PNG}` } }] },
      { role: "assistant", content: null, tool_calls: [{ id: "call_0", type: "function", function: { name: "f", arguments: '{"a":1}' } }] },
      { role: "tool", tool_call_id: "call_0", content: "42" },
    ],
    stream: true,
    stream_options: { include_usage: true },
    temperature: 0.2,
    max_tokens: 9,
    repetition_penalty: 1.1,
    response_format: { type: "json_object" },
    reasoning_effort: "high",
    think: "high",
  });
});

test("an OpenAI chat becomes an Ollama /api/chat, with stream always explicit", () => {
  const t = translateRequest(
    "/v1/chat/completions",
    {
      model: "m",
      messages: [
        { role: "developer", content: "be brief" },
        { role: "user", content: [{ type: "text", text: "what is" }, { type: "image_url", image_url: { url: `data:image/png;base64,${PNG}` } }] },
        { role: "assistant", content: null, tool_calls: [{ id: "c9", type: "function", function: { name: "f", arguments: '{"x":"y"}' } }] },
        { role: "tool", tool_call_id: "c9", content: "done" },
      ],
      max_completion_tokens: 5,
      stop: "END",
      response_format: { type: "json_schema", json_schema: { name: "n", schema: { type: "object" } } },
      options: { num_ctx: 8192 },
    },
    ctx,
  );
  assert.equal(t.path, "/api/chat");
  assert.deepEqual(t.body, {
    model: "m",
    messages: [
      { role: "system", content: "be brief" },
      { role: "user", content: "what is", images: [PNG] },
      { role: "assistant", content: "", tool_calls: [{ function: { name: "f", arguments: { x: "y" } } }] },
      { role: "tool", content: "done", tool_name: "f" },
    ],
    stream: false,
    format: { type: "object" },
    options: { num_ctx: 8192, stop: ["END"], num_predict: 5 },
  });
});

test("input an Ollama server cannot take is a TranslationError naming the field", () => {
  const cases: Array<[string, Record<string, unknown>, string]> = [
    ["/v1/embeddings", { model: "m", input: [[1, 2, 3]] }, "input"],
    ["/v1/chat/completions", { model: "m", n: 2, messages: [] }, "n"],
    ["/v1/chat/completions", { model: "m", messages: [{ role: "user", content: [{ type: "image_url", image_url: { url: "https://x/y.png" } }] }] }, "messages[0].content"],
    ["/v1/completions", { model: "m", prompt: ["a", "b"] }, "prompt"],
  ];
  for (const [path, body, param] of cases) {
    assert.throws(() => translateRequest(path as never, body, ctx), (err: TranslationError) => err instanceof TranslationError && err.param === param);
  }
});

test("an OpenAI server's streamed tool call fragments reach an Ollama client whole", () => {
  const t = translateRequest("/api/chat", { model: "m", messages: [] }, ctx);
  const chunk = (delta: object, finish: string | null = null) => `data: ${JSON.stringify({ choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
  const wire =
    chunk({ role: "assistant", content: "" }) +
    chunk({ tool_calls: [{ index: 0, id: "a", type: "function", function: { name: "get_weather", arguments: "" } }] }) +
    chunk({ tool_calls: [{ index: 0, function: { arguments: '{"ci' } }] }) +
    chunk({ tool_calls: [{ index: 0, function: { arguments: 'ty":"Oslo"}' } }] }) +
    chunk({}, "tool_calls") +
    `data: ${JSON.stringify({ choices: [], usage: { prompt_tokens: 3, completion_tokens: 4 } })}\n\ndata: [DONE]\n\n`;
  const translator = t.response.stream();
  const lines = ndLines(runStream(translator, wire));
  assert.deepEqual(lines[0].message, { role: "assistant", content: "", tool_calls: [{ function: { name: "get_weather", arguments: { city: "Oslo" } } }] });
  const last = lines.at(-1);
  assert.equal(last.done, true);
  assert.equal(last.prompt_eval_count, 3);
  assert.equal(last.eval_count, 4);
  assert.deepEqual(translator.usage, { prompt_tokens: 3, completion_tokens: 4 });
  assert.equal(t.response.streamContentType, "application/x-ndjson");
});

test("an Ollama server's stream reaches an OpenAI client: role first, indexed tool calls, finish, usage, [DONE]", () => {
  const t = translateRequest("/v1/chat/completions", { model: "m", stream: true, stream_options: { include_usage: true }, messages: [] }, ctx);
  const wire = [
    { message: { role: "assistant", content: "", thinking: "hmm" }, done: false },
    { message: { role: "assistant", content: "Hi" }, done: false },
    { message: { role: "assistant", content: "", tool_calls: [{ function: { name: "a", arguments: { x: 1 } } }, { function: { name: "b", arguments: {} } }] }, done: false },
    { message: { role: "assistant", content: "" }, done: true, done_reason: "stop", prompt_eval_count: 5, eval_count: 6 },
  ].map((l) => JSON.stringify(l)).join("\n") + "\n";
  const events = sseEvents(runStream(t.response.stream(), wire, 5));
  assert.deepEqual(events[0].choices[0].delta, { role: "assistant", content: "" });
  assert.equal(events[0].id, "chatcmpl-r1");
  assert.equal(events[0].object, "chat.completion.chunk");
  assert.deepEqual(events[1].choices[0].delta, { reasoning_content: "hmm" });
  assert.deepEqual(events[2].choices[0].delta, { content: "Hi" });
  assert.deepEqual(events[3].choices[0].delta.tool_calls, [
    { index: 0, id: "call_0", type: "function", function: { name: "a", arguments: '{"x":1}' } },
    { index: 1, id: "call_1", type: "function", function: { name: "b", arguments: "{}" } },
  ]);
  assert.equal(events[4].choices[0].finish_reason, "tool_calls");
  assert.deepEqual(events[5].choices, []);
  assert.deepEqual(events[5].usage, { prompt_tokens: 5, completion_tokens: 6, total_tokens: 11 });
  assert.equal(events[6], "[DONE]");
  assert.equal(events.length, 7);
});

test("non-streamed answers translate both ways with usage and finish reasons", () => {
  const toOllama = translateRequest("/api/chat", { model: "m", stream: false, messages: [] }, ctx);
  assert.equal(toOllama.stream, false);
  const ollamaAnswer = toOllama.response.json({
    choices: [{ index: 0, message: { role: "assistant", content: "yes", reasoning_content: "because" }, finish_reason: "length" }],
    usage: { prompt_tokens: 2, completion_tokens: 3 },
  }) as Record<string, unknown>;
  assert.deepEqual(ollamaAnswer.message, { role: "assistant", content: "yes", thinking: "because" });
  assert.deepEqual([ollamaAnswer.done, ollamaAnswer.done_reason, ollamaAnswer.prompt_eval_count, ollamaAnswer.eval_count], [true, "length", 2, 3]);

  const toOpenAI = translateRequest("/v1/chat/completions", { model: "m", messages: [] }, ctx);
  const openaiAnswer = toOpenAI.response.json({
    model: "m",
    message: { role: "assistant", content: "", tool_calls: [{ function: { name: "f", arguments: { q: "x" } } }] },
    done: true,
    done_reason: "stop",
    prompt_eval_count: 4,
    eval_count: 1,
  });
  assert.deepEqual(openaiAnswer, {
    id: "chatcmpl-r1",
    object: "chat.completion",
    created: 1_700_000_000,
    model: "m",
    choices: [{ index: 0, message: { role: "assistant", content: null, tool_calls: [{ id: "call_0", type: "function", function: { name: "f", arguments: '{"q":"x"}' } }] }, finish_reason: "tool_calls" }],
    usage: { prompt_tokens: 4, completion_tokens: 1, total_tokens: 5 },
  });
});

test("generate maps to chat with system + prompt, or to a raw completion", () => {
  const templated = translateRequest("/api/generate", { model: "m", system: "sys", prompt: "p", images: [PNG], stream: false }, ctx);
  assert.equal(templated.path, "/v1/chat/completions");
  assert.equal((templated.body.messages as unknown[]).length, 2);
  const raw = translateRequest("/api/generate", { model: "m", prompt: "p", raw: true, suffix: "s" }, ctx);
  assert.equal(raw.path, "/v1/completions");
  assert.deepEqual([raw.body.prompt, raw.body.suffix], ["p", "s"]);
  const sseText = `data: ${JSON.stringify({ choices: [{ text: "Once", index: 0, finish_reason: null }] })}\n\ndata: ${JSON.stringify({ choices: [{ text: " upon", index: 0, finish_reason: "stop" }] })}\n\ndata: [DONE]\n\n`;
  const lines = ndLines(runStream(raw.response.stream(), sseText));
  assert.deepEqual(lines.map((l) => l.response), ["Once", " upon", ""]);
  assert.equal(lines.at(-1).done, true);

  const completion = translateRequest("/v1/completions", { model: "m", prompt: ["go"], stream: true }, ctx);
  assert.deepEqual(completion.body, { model: "m", prompt: "go", raw: true, stream: true });
  const events = sseEvents(runStream(completion.response.stream(), '{"response":"a","done":false}\n{"response":"","done":true,"done_reason":"length","eval_count":1}\n'));
  assert.deepEqual(events.map((e) => (e === "[DONE]" ? e : [e.object, e.choices[0].text, e.choices[0].finish_reason])), [
    ["text_completion", "a", null],
    ["text_completion", "", "length"],
    "[DONE]",
  ]);
});

test("embeddings translate both ways, including base64 and the legacy endpoint", () => {
  const toOllama = translateRequest("/v1/embeddings", { model: "m", input: ["a", "b"], encoding_format: "base64" }, ctx);
  assert.equal(toOllama.path, "/api/embed");
  const answer = toOllama.response.json({ embeddings: [[1, 0.5], [0, -1]], prompt_eval_count: 2 }) as { data: Array<{ index: number; embedding: string }>; usage: object };
  assert.deepEqual(answer.data.map((d) => d.index), [0, 1]);
  const bytes = Buffer.from(answer.data[0].embedding, "base64");
  assert.deepEqual([bytes.length, bytes.readFloatLE(0), bytes.readFloatLE(4)], [8, 1, 0.5]);
  assert.deepEqual(answer.usage, { prompt_tokens: 2, total_tokens: 2 });

  const upstream = { data: [{ index: 1, embedding: [2] }, { index: 0, embedding: [1] }], usage: { prompt_tokens: 7 } };
  const embed = translateRequest("/api/embed", { model: "m", input: ["x", "y"] }, ctx);
  assert.deepEqual(embed.response.json(upstream), { model: "m", embeddings: [[1], [2]], total_duration: 0, load_duration: 0, prompt_eval_count: 7 });
  const legacy = translateRequest("/api/embeddings", { model: "m", prompt: "x" }, ctx);
  assert.deepEqual(legacy.body, { model: "m", input: "x" });
  assert.deepEqual(legacy.response.json({ data: [{ index: 0, embedding: [3] }] }), { embedding: [3] });
});

test("an upstream error mid-stream becomes an error in the client's stream format", () => {
  const toOpenAI = translateRequest("/v1/chat/completions", { model: "m", stream: true, messages: [] }, ctx);
  const events = sseEvents(runStream(toOpenAI.response.stream(), '{"message":{"content":"a"},"done":false}\n{"error":"CUDA out of memory"}\n'));
  assert.deepEqual(events.at(-1), { error: { message: "CUDA out of memory", type: "server_error", code: "upstream_error" } });
  const toOllama = translateRequest("/api/chat", { model: "m", messages: [] }, ctx);
  const lines = ndLines(runStream(toOllama.response.stream(), `data: ${JSON.stringify({ error: { message: "overloaded" } })}\n\n`));
  assert.deepEqual(lines, [{ error: "overloaded" }]);
});

test("usage is read from pass-through bodies and stream tails of both APIs", () => {
  assert.deepEqual(usageFromPassthrough("ollama", "/api/chat", '{"done":true,"prompt_eval_count":3,"eval_count":4}', false), { prompt_tokens: 3, completion_tokens: 4 });
  assert.deepEqual(usageFromPassthrough("ollama", "/api/chat", 'ntent":"x"},"done":false}\n{"done":true,"prompt_eval_count":1,"eval_count":2}\n', true), { prompt_tokens: 1, completion_tokens: 2 });
  assert.deepEqual(usageFromPassthrough("openai", "/v1/chat/completions", '{"usage":{"prompt_tokens":5,"completion_tokens":6}}', false), { prompt_tokens: 5, completion_tokens: 6 });
  const tail = 'ices":[]}\n\ndata: {"choices":[],"usage":{"prompt_tokens":7,"completion_tokens":8}}\n\ndata: [DONE]\n\n';
  assert.deepEqual(usageFromPassthrough("openai", "/v1/chat/completions", tail, true), { prompt_tokens: 7, completion_tokens: 8 });
  assert.equal(usageFromPassthrough("openai", "/v1/chat/completions", "data: [DONE]\n\n", true), undefined);
});

test("upstream error messages are read from either shape, and streaming defaults follow each API", () => {
  assert.equal(upstreamErrorMessage('{"error":"model not found"}'), "model not found");
  assert.equal(upstreamErrorMessage('{"error":{"message":"bad key","type":"x"}}'), "bad key");
  assert.equal(upstreamErrorMessage("502 Bad Gateway"), "502 Bad Gateway");
  assert.equal(upstreamErrorMessage("x".repeat(900)).length, 500);
  assert.equal(wantsStream("/api/chat", {}), true);
  assert.equal(wantsStream("/api/generate", { stream: false }), false);
  assert.equal(wantsStream("/api/embed", { stream: true }), false);
  assert.equal(wantsStream("/v1/chat/completions", {}), false);
  assert.equal(wantsStream("/v1/chat/completions", { stream: true }), true);
});

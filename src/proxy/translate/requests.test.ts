import assert from "node:assert/strict";
import { test } from "node:test";
import { clientApi, translateRequest, wantsStream } from "./index.js";

const ctx = { requestId: "r", server: "gpu-1", created: 0 };

test("each API's streaming default: Ollama streams chat and generate unless told not to, OpenAI only when asked, embeddings never", () => {
  assert.equal(wantsStream("/api/chat", {}), true);
  assert.equal(wantsStream("/api/generate", {}), true);
  assert.equal(wantsStream("/api/chat", { stream: false }), false);
  assert.equal(wantsStream("/api/embed", { stream: true }), false);
  assert.equal(wantsStream("/api/embeddings", {}), false);
  assert.equal(wantsStream("/v1/chat/completions", {}), false);
  assert.equal(wantsStream("/v1/chat/completions", { stream: true }), true);
  assert.equal(wantsStream("/v1/completions", { stream: true }), true);
  assert.equal(wantsStream("/v1/embeddings", { stream: true }), false);
});

test("the client's API follows the path", () => {
  assert.equal(clientApi("/api/chat"), "ollama");
  assert.equal(clientApi("/api/embeddings"), "ollama");
  assert.equal(clientApi("/v1/chat/completions"), "openai");
  assert.equal(clientApi("/v1/embeddings"), "openai");
});

test("a request to an Ollama server always says whether to stream, since Ollama streams by default", () => {
  assert.equal(translateRequest("/v1/chat/completions", { model: "m", messages: [] }, ctx).body.stream, false);
  assert.equal(translateRequest("/v1/completions", { model: "m", prompt: "x" }, ctx).body.stream, false);
  assert.equal(translateRequest("/v1/completions", { model: "m", prompt: "x", stream: true }, ctx).body.stream, true);
});

test("a request to an OpenAI server asks for usage only when it streams", () => {
  const streamed = translateRequest("/api/chat", { model: "m", messages: [] }, ctx);
  assert.deepEqual([streamed.stream, streamed.body.stream, streamed.body.stream_options], [true, true, { include_usage: true }]);
  const whole = translateRequest("/api/generate", { model: "m", prompt: "x", stream: false }, ctx);
  assert.deepEqual([whole.stream, whole.body.stream, whole.body.stream_options], [false, false, undefined]);
});

test("Ollama tool results without ids find their calls by tool name, in order, and fall back to the oldest open call", () => {
  const messages = [
    { role: "assistant", content: "", tool_calls: [{ function: { name: "a", arguments: {} } }, { function: { name: "b", arguments: {} } }, { function: { name: "a", arguments: { n: 2 } } }] },
    { role: "tool", tool_name: "a", content: "a1" },
    { role: "tool", tool_name: "a", content: "a2" },
    { role: "tool", content: "b (no name)" },
    { role: "assistant", content: "", tool_calls: [{ id: "mine", function: { name: "c", arguments: {} } }] },
    { role: "tool", tool_name: "c", content: "c1" },
    { role: "tool", content: "orphan" },
  ];
  const sent = translateRequest("/api/chat", { model: "m", messages }, ctx).body.messages as Array<Record<string, unknown>>;
  const calls = (sent[0].tool_calls as Array<{ id: string }>).map((c) => c.id);
  assert.deepEqual(calls, ["call_0", "call_1", "call_2"]);
  assert.deepEqual(
    sent.filter((m) => m.role === "tool").map((m) => [m.tool_call_id, m.content]),
    [
      ["call_0", "a1"],
      ["call_2", "a2"],
      ["call_1", "b (no name)"],
      ["mine", "c1"],
      ["call_3", "orphan"],
    ],
  );
});

test("an OpenAI tool result reaches Ollama with the name of the tool its call id points to", () => {
  const messages = [
    { role: "assistant", content: null, tool_calls: [{ id: "x1", type: "function", function: { name: "lookup", arguments: { q: "already an object" } } }] },
    { role: "tool", tool_call_id: "x1", content: "found" },
    { role: "tool", tool_call_id: "unknown", name: "legacy_name", content: "?" },
  ];
  const sent = translateRequest("/v1/chat/completions", { model: "m", messages }, ctx).body.messages;
  assert.deepEqual(sent, [
    { role: "assistant", content: "", tool_calls: [{ id: "x1", function: { name: "lookup", arguments: { q: "already an object" } } }] },
    { role: "tool", content: "found", tool_name: "lookup", tool_call_id: "x1" },
    { role: "tool", content: "?", tool_name: "legacy_name", tool_call_id: "unknown" },
  ]);
});

test("tool_choice none reaches Ollama as no tools offered", () => {
  const tools = [{ type: "function", function: { name: "f", parameters: { type: "object" } } }];
  assert.equal(translateRequest("/v1/chat/completions", { model: "m", messages: [], tools, tool_choice: "none" }, ctx).body.tools, undefined);
  assert.deepEqual(translateRequest("/v1/chat/completions", { model: "m", messages: [], tools, tool_choice: "required" }, ctx).body.tools, tools);
});

test("think true reaches an OpenAI server as think only; reasoning_effort none reaches Ollama as think false", () => {
  const toOpenAI = translateRequest("/api/chat", { model: "m", messages: [], think: true, stream: false }, ctx).body;
  assert.deepEqual([toOpenAI.think, toOpenAI.reasoning_effort], [true, undefined]);
  const toOllama = translateRequest("/v1/chat/completions", { model: "m", messages: [], reasoning_effort: "none" }, ctx).body;
  assert.equal(toOllama.think, false);
});

test("an Ollama generate with a suffix but no raw is still a completion, since fill-in-the-middle is not a chat", () => {
  const t = translateRequest("/api/generate", { model: "m", prompt: "def f(", suffix: "  return 1", stream: false }, ctx);
  assert.equal(t.path, "/v1/completions");
  assert.deepEqual(t.body, { model: "m", prompt: "def f(", suffix: "  return 1", stream: false });
});

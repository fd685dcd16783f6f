import assert from "node:assert/strict";
import { test } from "node:test";
import { BrokenAnswerError, frameOf, translateRequest } from "./index.js";

const ctx = { requestId: "r", server: "gpu-1", created: 0 };

test("a megabyte of garbage in a stream is quoted in its error line by its first 200 characters only", () => {
  const stream = translateRequest("/api/chat", { model: "m", messages: [] }, ctx).response.stream();
  const out = stream.push(Buffer.from(`data: ${"x".repeat(1_000_000)}\n\n`)) + stream.end();
  const error = (JSON.parse(out) as { error: string }).error;
  assert.equal(error, `server gpu-1 sent an event that is not JSON: ${"x".repeat(200)}…`);
  assert.equal(stream.error, error, "the translator reports why its stream failed");
});

test("a whole answer of the wrong shape is quoted by its first 200 characters only", () => {
  const translation = translateRequest("/v1/chat/completions", { model: "m", messages: [] }, ctx);
  const big = { model: "m", note: "y".repeat(1_000_000) };
  assert.throws(() => translation.response.json(big), (err: unknown) => err instanceof BrokenAnswerError && err.message.length < 300);
  assert.throws(() => translation.response.json(frameOf("z".repeat(1_000_000))), (err: unknown) => err instanceof BrokenAnswerError && err.message.length < 300);
});

test("embeddings that are not JSON, or lack their vectors, are no answer", () => {
  const toOllama = translateRequest("/v1/embeddings", { model: "m", input: "a" }, ctx);
  assert.throws(() => toOllama.response.json(frameOf("<html>")), { name: "BrokenAnswerError", message: "server gpu-1 sent a response body that is not JSON: <html>" });
  assert.throws(() => toOllama.response.json({ error: "no" }), { message: 'server gpu-1 sent a response body that is not an Ollama embed answer: {"error":"no"}' });
  const toOpenAI = translateRequest("/api/embed", { model: "m", input: "a" }, ctx);
  assert.throws(() => toOpenAI.response.json({ object: "list" }), { message: 'server gpu-1 sent a response body that is not an OpenAI embeddings answer: {"object":"list"}' });
});

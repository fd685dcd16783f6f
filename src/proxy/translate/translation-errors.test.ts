import assert from "node:assert/strict";
import { test } from "node:test";
import { translateRequest, TranslationError, type ClientPath } from "./index.js";

const ctx = { requestId: "r", server: "gpu-1", created: 0 };

function rejects(path: ClientPath, body: Record<string, unknown>, param: string, message: RegExp): void {
  assert.throws(
    () => translateRequest(path, body, ctx),
    (err: unknown) => {
      assert.ok(err instanceof TranslationError, "a TranslationError");
      assert.equal(err.param, param);
      assert.match(err.message, message);
      return true;
    },
  );
}

test("token-array embeddings input cannot reach an Ollama server", () => {
  rejects("/v1/embeddings", { model: "m", input: [1, 2, 3] }, "input", /token arrays/);
  rejects("/v1/embeddings", { model: "m", input: [[1, 2], [3]] }, "input", /token arrays/);
});

test("more than one choice, best_of or echo cannot be asked of an Ollama server", () => {
  rejects("/v1/chat/completions", { model: "m", n: 2, messages: [] }, "n", /one choice/);
  rejects("/v1/completions", { model: "m", n: 3, prompt: "x" }, "n", /one choice/);
  rejects("/v1/completions", { model: "m", best_of: 2, prompt: "x" }, "best_of", /best_of/);
  rejects("/v1/completions", { model: "m", echo: true, prompt: "x" }, "echo", /echo/);
  assert.doesNotThrow(() => translateRequest("/v1/chat/completions", { model: "m", n: 1, messages: [] }, ctx));
});

test("linked images cannot reach an Ollama server, which takes inline bytes only", () => {
  const messages = [
    { role: "system", content: "s" },
    { role: "user", content: [{ type: "text", text: "look" }, { type: "image_url", image_url: { url: "https://example.com/cat.png" } }] },
  ];
  rejects("/v1/chat/completions", { model: "m", messages }, "messages[1].content", /data: URLs/);
  rejects("/v1/chat/completions", { model: "m", messages: [{ role: "user", content: [{ type: "image_url", image_url: "http://x/y.jpg" }] }] }, "messages[0].content", /data: URLs/);
});

test("content parts an Ollama server has no field for are refused, naming the message", () => {
  const audio = { type: "input_audio", input_audio: { data: "AAAA", format: "wav" } };
  rejects("/v1/chat/completions", { model: "m", messages: [{ role: "user", content: [audio] }] }, "messages[0].content", /input_audio/);
});

test("a batch of prompts or token-id prompts cannot reach Ollama's generate", () => {
  rejects("/v1/completions", { model: "m", prompt: ["a", "b"] }, "prompt", /one prompt string/);
  rejects("/v1/completions", { model: "m", prompt: [1, 2, 3] }, "prompt", /one prompt string/);
});

test("a client's tool call arguments that are not a JSON object are refused, naming the call", () => {
  const messages = [{ role: "assistant", content: null, tool_calls: [{ id: "c", type: "function", function: { name: "f", arguments: "{oops" } }] }];
  rejects("/v1/chat/completions", { model: "m", messages }, "messages[0].tool_calls[0].function.arguments", /JSON object/);
});

test("Ollama requests an OpenAI server cannot carry are refused", () => {
  rejects("/api/generate", { model: "m", prompt: "p", raw: true, images: ["iVBORw0KGgo"] }, "images", /only in chat/);
  rejects("/api/embed", { model: "m", input: [1, 2] }, "input", /string/);
  rejects("/api/embeddings", { model: "m", prompt: ["a"] }, "prompt", /string/);
});

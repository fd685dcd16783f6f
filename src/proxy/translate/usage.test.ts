import assert from "node:assert/strict";
import { test } from "node:test";
import { upstreamErrorMessage, usageFromPassthrough } from "./index.js";

test("usage is read from a whole Ollama body, even with tool arguments that look like counts", () => {
  const body = JSON.stringify({
    model: "m",
    message: { role: "assistant", content: "", tool_calls: [{ function: { name: "f", arguments: { eval_count: 999 } } }] },
    done: true,
    prompt_eval_count: 26,
    eval_count: 298,
  });
  assert.deepEqual(usageFromPassthrough("ollama", "/api/chat", body, false), { prompt_tokens: 26, completion_tokens: 298 });
  assert.deepEqual(usageFromPassthrough("ollama", "/api/embed", '{"model":"m","embeddings":[[0.1]],"prompt_eval_count":4}', false), {
    prompt_tokens: 4,
    completion_tokens: 0,
  });
});

test("usage is read from the done line at the tail of an Ollama stream", () => {
  const tail = 'ntent":"x"},"done":false}\n{"model":"m","message":{"role":"assistant","content":""},"done":true,"prompt_eval_count":1,"eval_count":2}\n';
  assert.deepEqual(usageFromPassthrough("ollama", "/api/chat", tail, true), { prompt_tokens: 1, completion_tokens: 2 });
  assert.equal(usageFromPassthrough("ollama", "/api/generate", '{"response":"a","done":false}\n', true), undefined);
});

test("usage is read from a whole OpenAI body: chat, completions and embeddings", () => {
  // Count-like text inside a string is escaped, so it never matches, even after the real usage.
  const chat = '{"usage":{"prompt_tokens":9,"completion_tokens":3,"total_tokens":12,"prompt_tokens_details":null},"choices":[{"message":{"content":"\\"prompt_tokens\\": 5"}}]}';
  assert.deepEqual(usageFromPassthrough("openai", "/v1/chat/completions", chat, false), { prompt_tokens: 9, completion_tokens: 3 });
  assert.deepEqual(usageFromPassthrough("openai", "/v1/embeddings", '{"data":[],"usage":{"prompt_tokens":8,"total_tokens":8}}', false), {
    prompt_tokens: 8,
    completion_tokens: 0,
  });
  assert.equal(usageFromPassthrough("openai", "/v1/chat/completions", '{"usage":null}', false), undefined);
});

test("usage is read from the last SSE event carrying it at the tail of an OpenAI stream", () => {
  const tail =
    'elta":{"content":"x"}}],"usage":null}\n\n' +
    'data: {"choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":null}\n\n' +
    'data: {"choices":[],"usage":{"prompt_tokens":7,"completion_tokens":8,"total_tokens":15}}\n\n' +
    "data: [DONE]\n\n";
  assert.deepEqual(usageFromPassthrough("openai", "/v1/chat/completions", tail, true), { prompt_tokens: 7, completion_tokens: 8 });
  assert.equal(usageFromPassthrough("openai", "/v1/completions", 'data: {"choices":[]}\n\ndata: [DONE]\n\n', true), undefined);
});

test("usage reading never throws on junk", () => {
  for (const text of ["", "garbage", "{", 'data: {"usage":', '"prompt_tokens": x']) {
    for (const streamed of [true, false]) {
      assert.equal(usageFromPassthrough("openai", "/v1/chat/completions", text, streamed), undefined);
      assert.equal(usageFromPassthrough("ollama", "/api/chat", text, streamed), undefined);
    }
  }
});

test("upstream error messages are read from either API's shape, or the text itself, at most 500 characters", () => {
  assert.equal(upstreamErrorMessage('{"error":"model \\"x\\" not found, try pulling it first"}'), 'model "x" not found, try pulling it first');
  assert.equal(upstreamErrorMessage('{"error":{"message":"Invalid API key","type":"invalid_request_error","code":null}}'), "Invalid API key");
  assert.equal(upstreamErrorMessage('{"object":"error","message":"max_tokens is too large","type":"BadRequestError","code":400}'), "max_tokens is too large");
  assert.equal(upstreamErrorMessage('{"detail":"Not Found"}'), "Not Found");
  assert.equal(upstreamErrorMessage('{"detail":[{"loc":["body","model"],"msg":"field required"}]}'), "field required");
  assert.equal(upstreamErrorMessage("  502 Bad Gateway\n"), "502 Bad Gateway");
  assert.equal(upstreamErrorMessage(""), "no details");
  assert.equal(upstreamErrorMessage("x".repeat(900)).length, 500);
  assert.equal(upstreamErrorMessage(JSON.stringify({ error: "y".repeat(900) })), "y".repeat(500));
});

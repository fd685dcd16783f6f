import assert from "node:assert/strict";
import { test } from "node:test";
import { fromBase64, toBase64 } from "./embeddings.js";
import { translateRequest } from "./index.js";

test("base64 embeddings are little-endian float32, and read back to the same values", () => {
  const encoded = toBase64([1, 0.5, -2]);
  const bytes = Buffer.from(encoded, "base64");
  assert.deepEqual([bytes.length, bytes.readFloatLE(0), bytes.readFloatLE(4), bytes.readFloatLE(8)], [12, 1, 0.5, -2]);
  assert.deepEqual(fromBase64(encoded), [1, 0.5, -2]);
});

test("an embeddings answer fed as a stream is gathered and answered whole at the end, with its usage", () => {
  const t = translateRequest("/v1/embeddings", { model: "m", input: "é" }, { requestId: "r", server: "gpu-1", created: 0 });
  assert.equal(t.stream, false);
  const translator = t.response.stream();
  const body = Buffer.from(JSON.stringify({ model: "m", embeddings: [[0.25]], prompt_eval_count: 3 }));
  let out = "";
  for (let i = 0; i < body.length; i += 3) out += translator.push(body.subarray(i, i + 3));
  assert.equal(out, "", "nothing before the end");
  assert.deepEqual(JSON.parse(translator.end()), {
    object: "list",
    data: [{ object: "embedding", index: 0, embedding: [0.25] }],
    model: "m",
    usage: { prompt_tokens: 3, total_tokens: 3 },
  });
  assert.deepEqual(translator.usage, { prompt_tokens: 3, completion_tokens: 0 });
  assert.equal(t.response.streamContentType, "application/json");
});

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import { Ajv, type ValidateFunction } from "ajv";
import OpenAI from "openai";
import { startSim, type SimServer } from "../sim/index.js";
import { ADMIN_KEY, startFlotilla, type Flotilla } from "./harness.js";

type Schema = Record<string, unknown>;

/**
 * OpenAI's published response schemas (test/fixtures/openai-openapi, MIT),
 * read as OpenAPI 3.0: `nullable` adds null to a field's enum too. Two
 * documented deviations of the real API from its own schema are allowed, as
 * OpenAI's servers send them and the SDKs read them: a streamed chat chunk's
 * `usage` is null until the last chunk (the field's own description says
 * so), and a streamed completion chunk's `finish_reason` is null until the
 * last.
 */
function openAISchemas(): (name: string, patch?: (schemas: Record<string, Schema>) => void) => ValidateFunction {
  const fixture = JSON.parse(readFileSync("test/fixtures/openai-openapi/schemas.json", "utf8")) as { components: { schemas: Record<string, Schema> } };
  const nullableEnums = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(nullableEnums);
    if (node === null || typeof node !== "object") return;
    const schema = node as Schema;
    if (schema.nullable === true && Array.isArray(schema.enum) && !schema.enum.includes(null)) schema.enum.push(null);
    Object.values(schema).forEach(nullableEnums);
  };
  return (name, patch) => {
    const schemas = structuredClone(fixture.components.schemas);
    nullableEnums(schemas);
    patch?.(schemas);
    const ajv = new Ajv({ strict: false, allErrors: true });
    ajv.addSchema({ $id: "openai", components: { schemas } });
    return ajv.getSchema(`openai#/components/schemas/${name}`) as ValidateFunction;
  };
}

const at = (schemas: Record<string, Schema>, name: string, ...path: string[]): Schema =>
  path.reduce((node, key) => (node[key] as Schema), schemas[name]);

function conforms(validate: ValidateFunction, value: unknown, what: string): void {
  assert.ok(validate(value), `${what} does not match OpenAI's schema: ${JSON.stringify(validate.errors)}\n${JSON.stringify(value).slice(0, 600)}`);
}

/** The SSE data lines of a streamed answer, parsed, without [DONE]. */
async function sseChunks(res: Response): Promise<Array<Record<string, unknown>>> {
  const text = await res.text();
  return text
    .split("\n")
    .filter((l) => l.startsWith("data: ") && l !== "data: [DONE]")
    .map((l) => JSON.parse(l.slice(6)) as Record<string, unknown>);
}

describe("OpenAI answers match OpenAI's published schema", () => {
  let ollamaSim: SimServer;
  let openaiSim: SimServer;
  let gw: Flotilla;
  let openai: OpenAI;
  const schema = openAISchemas();

  before(async () => {
    // "tiny" is "tiny:latest" on the Ollama server; "e" is on both servers; "t" only on Ollama.
    ollamaSim = await startSim({ kind: "ollama", models: ["tiny:latest", "e:latest", "t:latest"] });
    openaiSim = await startSim({ kind: "openai", models: ["e"] });
    gw = await startFlotilla({ servers: [`${ollamaSim.url},ollama`, `${openaiSim.url},openai`] });
    openai = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: ADMIN_KEY, maxRetries: 0 });
  });
  after(async () => {
    await gw?.stop();
    await Promise.all([ollamaSim?.close(), openaiSim?.close()]);
  });

  const post = (path: string, body: unknown) => gw.admin(path, { method: "POST", body: JSON.stringify(body) });

  test("a chat completion from an Ollama server: refusal is null, and model is the name the client asked for", async () => {
    const res = await openai.chat.completions.create({ model: "tiny", messages: [{ role: "user", content: "hi" }] });
    conforms(schema("CreateChatCompletionResponse"), res, "chat.completion");
    assert.equal(res.choices[0].message.refusal, null);
    assert.equal(res.model, "tiny");
  });

  test("every streamed chat chunk matches, usage chunk included", async () => {
    const chunks = await sseChunks(await post("/v1/chat/completions", { model: "tiny", messages: [{ role: "user", content: "hi" }], stream: true, stream_options: { include_usage: true } }));
    const validate = schema("CreateChatCompletionStreamResponse", (s) => {
      at(s, "CreateChatCompletionStreamResponse", "properties", "usage").nullable = true;
    });
    assert.ok(chunks.length > 3);
    chunks.forEach((chunk, i) => {
      conforms(validate, chunk, `chunk ${i}`);
      assert.equal(chunk.model, "tiny");
    });
    assert.ok((chunks[chunks.length - 1].usage as { total_tokens: number }).total_tokens > 0);
  });

  test("a completion, whole and streamed: every chunk is a text_completion; only the last choice has a finish_reason", async () => {
    const whole = await openai.completions.create({ model: "tiny", prompt: "once upon" });
    conforms(schema("CreateCompletionResponse"), whole, "text_completion");
    assert.equal(whole.model, "tiny");

    const chunks = await sseChunks(await post("/v1/completions", { model: "tiny", prompt: "once upon", stream: true, stream_options: { include_usage: true } }));
    const final = schema("CreateCompletionResponse");
    const partial = schema("CreateCompletionResponse", (s) => {
      const reason = at(s, "CreateCompletionResponse", "properties", "choices", "items", "properties", "finish_reason");
      reason.nullable = true;
      (reason.enum as unknown[]).push(null);
    });
    const withChoices = chunks.filter((c) => (c.choices as unknown[]).length > 0);
    assert.ok(withChoices.length > 2);
    chunks.forEach((chunk, i) => {
      const last = chunk === withChoices[withChoices.length - 1] || (chunk.choices as unknown[]).length === 0;
      conforms(last ? final : partial, chunk, `chunk ${i}`);
      assert.equal(chunk.object, "text_completion");
      assert.equal(chunk.model, "tiny");
    });
    assert.equal((withChoices[withChoices.length - 1].choices as Array<{ finish_reason: string }>)[0].finish_reason, "stop");
    assert.ok((chunks[chunks.length - 1].usage as { total_tokens: number }).total_tokens > 0, "the usage chunk ends the stream");
  });

  test("embeddings of text, as floats and as base64, match", async () => {
    // The schema types `embedding` as an array only, though its own encoding_format: base64 answers a string.
    const validate = schema("CreateEmbeddingResponse", (s) => {
      const properties = at(s, "Embedding", "properties");
      properties.embedding = { anyOf: [properties.embedding, { type: "string" }] };
    });
    for (const encoding_format of ["float", "base64"] as const) {
      const res = await post("/v1/embeddings", { model: "tiny", input: ["a", "b"], encoding_format });
      assert.equal(res.status, 200);
      const body = (await res.json()) as { model: string };
      conforms(validate, body, `embeddings (${encoding_format})`);
      assert.equal(body.model, "tiny");
    }
  });

  test("embeddings of token ids go to a server speaking OpenAI's API; with none for the model, a 400 names the servers", async () => {
    for (const input of [[1, 2, 3], [[1, 2], [3]]]) {
      const res = await post("/v1/embeddings", { model: "e", input });
      assert.equal(res.status, 200, await res.clone().text());
      assert.equal(res.headers.get("x-flotilla-server"), new URL(openaiSim.url).host);
      conforms(schema("CreateEmbeddingResponse"), await res.json(), "token-id embeddings");
    }
    const refused = await post("/v1/embeddings", { model: "t", input: [1, 2, 3] });
    assert.equal(refused.status, 400);
    const { error } = (await refused.json()) as { error: { param: string; message: string } };
    assert.equal(error.param, "input");
    assert.match(error.message, new RegExp(`OpenAI-compatible server.*${new URL(ollamaSim.url).host}`));
    conforms(schema("ErrorResponse"), { error: { ...error, code: "invalid_request" } }, "error");
  });

  test("the model list, one model and an error match", async () => {
    const list = await (await gw.admin("/v1/models")).json();
    conforms(schema("ListModelsResponse"), list, "model list");
    const one = await (await gw.admin("/v1/models/tiny")).json();
    conforms(schema("Model"), one, "model");
    const missing = await gw.admin("/v1/models/nothing-here");
    assert.equal(missing.status, 404);
    conforms(schema("ErrorResponse"), await missing.json(), "error");
  });
});

import assert from "node:assert/strict";
import { test } from "node:test";
import { effortToThink, formatToResponseFormat, optionsToParams, paramsToOptions, responseFormatToFormat, thinkToEffort } from "./params.js";

test("Ollama options become OpenAI parameters through the one table, and unknown options are dropped", () => {
  const options = {
    temperature: 0.3,
    top_p: 0.9,
    top_k: 20,
    min_p: 0.05,
    seed: 42,
    stop: ["\n", "user:"],
    num_predict: 100,
    frequency_penalty: 1,
    presence_penalty: 1.5,
    repeat_penalty: 1.2,
    num_ctx: 4096,
    mirostat: 1,
    typical_p: 0.7,
  };
  assert.deepEqual(optionsToParams(options), {
    temperature: 0.3,
    top_p: 0.9,
    top_k: 20,
    min_p: 0.05,
    seed: 42,
    stop: ["\n", "user:"],
    max_tokens: 100,
    frequency_penalty: 1,
    presence_penalty: 1.5,
    repetition_penalty: 1.2,
  });
});

test("Ollama's unbounded num_predict (-1, -2) sends no max_tokens", () => {
  assert.deepEqual(optionsToParams({ num_predict: -1 }), {});
  assert.deepEqual(optionsToParams({ num_predict: -2, temperature: 0 }), { temperature: 0 });
  assert.deepEqual(optionsToParams(undefined), {});
  assert.deepEqual(optionsToParams("junk"), {});
});

test("OpenAI parameters become Ollama options through the same table read backwards", () => {
  const body = {
    model: "m",
    temperature: 0.3,
    top_p: 0.9,
    top_k: 20,
    min_p: 0.05,
    seed: 42,
    stop: "END",
    max_tokens: 100,
    frequency_penalty: 1,
    presence_penalty: 1.5,
    repetition_penalty: 1.2,
    logit_bias: { "1": 2 },
  };
  assert.deepEqual(paramsToOptions(body), {
    temperature: 0.3,
    top_p: 0.9,
    top_k: 20,
    min_p: 0.05,
    seed: 42,
    stop: ["END"],
    num_predict: 100,
    frequency_penalty: 1,
    presence_penalty: 1.5,
    repeat_penalty: 1.2,
  });
});

test("max_completion_tokens is read as num_predict when max_tokens is absent, and null parameters are ignored", () => {
  assert.deepEqual(paramsToOptions({ max_completion_tokens: 7 }), { num_predict: 7 });
  assert.deepEqual(paramsToOptions({ max_tokens: 5, max_completion_tokens: 7 }), { num_predict: 5 });
  assert.deepEqual(paramsToOptions({ temperature: null, stop: null }), {});
  assert.deepEqual(paramsToOptions({ stop: ["a", "b"] }), { stop: ["a", "b"] });
});

test("format and response_format map both ways: json mode and JSON schemas", () => {
  const schema = { type: "object", properties: { age: { type: "integer" } } };
  assert.deepEqual(formatToResponseFormat("json"), { type: "json_object" });
  assert.deepEqual(formatToResponseFormat(schema), { type: "json_schema", json_schema: { name: "response", schema } });
  assert.equal(formatToResponseFormat(""), undefined);
  assert.equal(responseFormatToFormat({ type: "json_object" }), "json");
  assert.deepEqual(responseFormatToFormat({ type: "json_schema", json_schema: { name: "x", strict: true, schema } }), schema);
  assert.equal(responseFormatToFormat({ type: "text" }), undefined);
});

test("think levels become reasoning_effort; reasoning_effort becomes think, none turning thinking off", () => {
  assert.equal(thinkToEffort("low"), "low");
  assert.equal(thinkToEffort(true), undefined);
  assert.equal(effortToThink({ reasoning_effort: "high" }), "high");
  assert.equal(effortToThink({ reasoning_effort: "none" }), false);
  assert.equal(effortToThink({ reasoning_effort: "minimal" }), "low");
  assert.equal(effortToThink({ reasoning: { effort: "medium" } }), "medium");
  assert.equal(effortToThink({ think: true, reasoning_effort: "low" }), true, "a client's own think wins");
  assert.equal(effortToThink({ reasoning_effort: "extreme" }), undefined);
  assert.equal(effortToThink({}), undefined);
});

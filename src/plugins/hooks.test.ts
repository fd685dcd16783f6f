import assert from "node:assert/strict";
import { test } from "node:test";
import { FlotillaError } from "../kernel/index.js";
import type { RequestRecord } from "../observe/record.js";
import type { CallContext } from "../proxy/index.js";
import { PluginRefusal, type AfterResponseHook, type BeforeRouteHook } from "./api.js";
import { beforeRouteRunner, withAfterResponse } from "./hooks.js";
import { PluginLogs } from "./log.js";

function context(): CallContext {
  return { requestId: "req_1", surface: "openai", caller: "key:k1", keyId: "k1", priority: "interactive", method: "POST", startedAt: 0 };
}

const RECORD: RequestRecord = { requestId: "req_1", surface: "openai", method: "POST", path: "/v1/chat/completions", model: "m", server: "a", status: 200, latencyMs: 12, retries: 0, usage: { prompt_tokens: 3, completion_tokens: 5 } };

function captured(): { logs: PluginLogs; lines: string[] } {
  const logs = new PluginLogs();
  const lines: string[] = [];
  logs.attach({ info: (m) => lines.push(m), warn: (m) => lines.push(m), error: (m) => lines.push(m) });
  return { logs, lines };
}

test("no hooks: no runner, and the recorder is passed through untouched", () => {
  const { logs } = captured();
  const record = () => undefined;
  assert.equal(beforeRouteRunner([], logs), undefined);
  assert.equal(withAfterResponse(record, [], logs), record);
});

test("a before hook that refuses becomes a 4xx FlotillaError with its message and status", async () => {
  const { logs } = captured();
  const seen: unknown[] = [];
  const refuse: BeforeRouteHook = (request) => {
    seen.push(request);
    throw new PluginRefusal(`model ${request.model} is not for you`, 403, "gate");
  };
  const run = beforeRouteRunner([{ plugin: "gate", value: refuse }], logs)!;
  const err = await run(context(), "/v1/chat/completions", "secret-model").then(() => assert.fail("should refuse"), (e: unknown) => e);
  assert.ok(err instanceof FlotillaError);
  assert.deepEqual([err.status, err.code, err.message], [403, "forbidden", "model secret-model is not for you"]);
  assert.deepEqual(seen, [{ requestId: "req_1", path: "/v1/chat/completions", model: "secret-model", surface: "openai", caller: "key:k1", keyId: "k1", userId: undefined, source: undefined, pin: undefined }]);
});

test("a before hook that crashes fails the request as a 500 and is logged with its plugin", async () => {
  const { logs, lines } = captured();
  const run = beforeRouteRunner([{ plugin: "buggy", value: () => Promise.reject(new Error("lookup failed")) }], logs)!;
  const err = await run(context(), "/api/chat", "m").then(() => assert.fail("should fail"), (e: unknown) => e);
  assert.ok(err instanceof FlotillaError);
  assert.equal(err.status, 500);
  assert.equal(err.message, "internal error");
  assert.deepEqual(lines, ["plugin buggy: beforeRoute hook failed: lookup failed"]);
});

test("a before hook's pin routes the request as X-Ollama-Pin-Server would", async () => {
  const { logs } = captured();
  const ctx = context();
  await beforeRouteRunner([{ plugin: "p", value: () => ({ pin: "gpu-2" }) }], logs)!(ctx, "/api/chat", "m");
  assert.equal(ctx.pin, "gpu-2");
});

test("an after hook that throws or rejects is logged, never raised, and the record is still written", async () => {
  const { logs, lines } = captured();
  const written: RequestRecord[] = [];
  const views: unknown[] = [];
  const throws: AfterResponseHook = (view) => {
    views.push(view);
    throw new Error("counter broke");
  };
  const rejects: AfterResponseHook = async () => {
    throw new Error("sink down");
  };
  const record = withAfterResponse((r) => written.push(r), [{ plugin: "a", value: throws }, { plugin: "b", value: rejects }], logs);
  assert.doesNotThrow(() => record(RECORD));
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(written, [RECORD]);
  assert.deepEqual(lines, ["plugin a: afterResponse hook failed: counter broke", "plugin b: afterResponse hook failed: sink down"]);
  const view = views[0] as Record<string, unknown>;
  assert.deepEqual([view.status, view.model, view.server, view.tokensIn, view.tokensOut, view.latencyMs], [200, "m", "a", 3, 5, 12]);
  assert.ok(Object.isFrozen(view), "a hook cannot change the record");
});

test("a hook failing on every request is logged once a minute, not once a request", () => {
  const { logs, lines } = captured();
  const record = withAfterResponse(() => undefined, [{ plugin: "noisy", value: () => { throw new Error("again"); } }], logs);
  for (let i = 0; i < 50; i++) record(RECORD);
  assert.equal(lines.length, 1);
});

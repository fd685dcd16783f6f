import assert from "node:assert/strict";
import { test } from "node:test";
import type { LocalServer } from "./local-server.js";
import { LocalTransport } from "./local-transport.js";

/** A server whose answer is an endless stream, recording whether its producer was told to stop. */
function endlessServer(state: { produced: number; stopped: boolean }): LocalServer {
  return {
    api: "ollama",
    async handle() {
      async function* body() {
        try {
          for (;;) {
            state.produced++;
            yield Buffer.from(`{"n":${state.produced}}\n`);
            await new Promise((resolve) => setImmediate(resolve));
          }
        } finally {
          state.stopped = true;
        }
      }
      return { status: 200, headers: { "content-type": "application/x-ndjson" }, body: body() };
    },
    async inventory() {
      return { available: [], loaded: [] };
    },
    async close() {},
  };
}

test("a client abort stops the engine's stream behind the transport", async () => {
  const state = { produced: 0, stopped: false };
  const transport = new LocalTransport(endlessServer(state));
  const abort = new AbortController();
  const res = await transport.request({ method: "POST", path: "/api/generate", headers: {}, body: "{}", signal: abort.signal, timeoutMs: 1000 });
  assert.equal(res.statusCode, 200);
  let read = 0;
  await assert.rejects(async () => {
    for await (const _ of res.body) if (++read === 3) abort.abort();
  });
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(state.stopped, true);
  assert.ok(state.produced < 10, `produced ${state.produced} chunks`);
});

test("a body read to its end arrives whole through text()", async () => {
  const server: LocalServer = {
    ...endlessServer({ produced: 0, stopped: false }),
    async handle() {
      return { status: 404, headers: {}, body: (async function* () { yield Buffer.from('{"error":'); yield Buffer.from('"nope"}'); })() };
    },
  };
  const res = await new LocalTransport(server).request({ method: "GET", path: "/x", headers: {}, timeoutMs: 1000 });
  assert.equal(res.statusCode, 404);
  assert.deepEqual(await res.body.json(), { error: "nope" });
});

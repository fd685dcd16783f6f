import assert from "node:assert/strict";
import { afterEach, describe, test } from "node:test";
import type { SimServer } from "../sim/index.js";
import { simulators, startFlotilla, type Flotilla } from "./harness.js";

const sims = simulators();
let gw: Flotilla | undefined;

afterEach(async () => {
  await gw?.stop();
  gw = undefined;
  await sims.closeAll();
});

const sim = sims.start;

function nameOf(s: SimServer): string {
  return new URL(s.url).host;
}

function yaml(servers: Array<{ sim: SimServer; extra?: string }>, settings = ""): string {
  const list = servers.map(({ sim: s, extra }) => `  - name: ${nameOf(s)}\n    url: ${s.url}\n    kind: ollama\n${extra ?? ""}`).join("");
  return `servers:\n${list}${settings}`;
}

const chat = (model = "m", stream = false) => JSON.stringify({ model, stream, messages: [{ role: "user", content: "hi" }] });

function chatCalls(s: SimServer): number {
  return s.requests.filter((r) => r.path === "/api/chat").length;
}

describe("routing through real processes", () => {
  test("retries a read on another server when the first says model not found", async () => {
    const first = await sim({ kind: "ollama", models: ["m:latest"], loaded: ["m:latest"] });
    const second = await sim({ kind: "ollama", models: ["m:latest"] });
    first.fail({ path: "/api/chat", status: 404, body: { error: 'model "m" not found, try pulling it first' }, times: 1 });
    gw = await startFlotilla({ yaml: yaml([{ sim: first }, { sim: second }]) });
    const res = await gw.admin("/api/chat", { method: "POST", body: chat() });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("x-flotilla-server"), nameOf(second));
    assert.equal(chatCalls(first), 1);
    assert.equal(chatCalls(second), 1);
  });

  test("retries on 5xx and on a first-byte timeout, and tries at most 3 servers", async () => {
    // The hanging server has the model loaded, so it is tried first; the other three tie and rotate.
    const servers = await Promise.all([0, 1, 2, 3].map((i) => sim({ kind: "ollama", models: ["m:latest"], loaded: i === 0 ? ["m:latest"] : [] })));
    servers[0].fail({ path: "/api/chat", hang: true });
    for (const s of servers.slice(1)) s.fail({ path: "/api/chat", status: 500, body: { error: "out of memory" } });
    gw = await startFlotilla({
      yaml: yaml(servers.map((s) => ({ sim: s })), "routing:\n  first_byte_timeout_ms: 300\n"),
    });
    const res = await gw.admin("/api/chat", { method: "POST", body: chat() });
    assert.equal(res.status, 502);
    const body = (await res.json()) as { error: string; code: string };
    assert.equal(body.code, "upstream_error");
    assert.match(body.error, /answered 500: out of memory/);
    assert.equal(servers.reduce((n, s) => n + chatCalls(s), 0), 3, "three servers tried, the fourth not");
  });

  test("retries on a refused connection and marks that server down", async () => {
    const dead = await sim({ kind: "ollama", models: ["m:latest"], loaded: ["m:latest"] });
    const alive = await sim({ kind: "ollama", models: ["m:latest"] });
    gw = await startFlotilla({ yaml: yaml([{ sim: dead }, { sim: alive }], "poll:\n  interval_ms: 60000\n") });
    await dead.close();
    const res = await gw.admin("/v1/chat/completions", { method: "POST", body: JSON.stringify({ model: "m", messages: [{ role: "user", content: "x" }] }) });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("x-flotilla-server"), nameOf(alive));
    await waitFor(async () => {
      const { servers } = (await (await gw!.admin("/admin/servers")).json()) as { servers: Array<{ name: string; up: boolean }> };
      return servers.find((s) => s.name === nameOf(dead))?.up === false;
    });
  });

  test("writes are never retried on another server", async () => {
    const a = await sim({ kind: "ollama", models: ["m:latest"] });
    const b = await sim({ kind: "ollama", models: ["m:latest"] });
    const [first, second] = [a, b].sort((x, y) => nameOf(x).localeCompare(nameOf(y)));
    first.fail({ path: "/api/pull", status: 500, body: { error: "disk full" } });
    gw = await startFlotilla({ yaml: yaml([{ sim: a }, { sim: b }]) });
    const res = await gw.admin("/api/pull", { method: "POST", body: JSON.stringify({ model: "new:1b" }) });
    assert.equal(res.status, 502);
    assert.match(((await res.json()) as { error: string }).error, /disk full/);
    assert.equal(second.requests.filter((r) => r.path === "/api/pull").length, 0);
  });

  test("X-Ollama-Pin-Server forces a server, and an unknown name is a 404", async () => {
    const a = await sim({ kind: "ollama", models: ["m:latest"], loaded: ["m:latest"] });
    const b = await sim({ kind: "ollama", models: ["m:latest"] });
    gw = await startFlotilla({ yaml: yaml([{ sim: a }, { sim: b }]) });
    for (let i = 0; i < 3; i++) {
      const res = await gw.admin("/api/chat", { method: "POST", body: chat(), headers: { "x-ollama-pin-server": nameOf(b) } });
      assert.equal(res.headers.get("x-flotilla-server"), nameOf(b));
      await res.arrayBuffer();
    }
    const unknown = await gw.admin("/api/chat", { method: "POST", body: chat(), headers: { "x-ollama-pin-server": "nope" } });
    assert.equal(unknown.status, 404);
    assert.equal(((await unknown.json()) as { code: string }).code, "server_not_found");
  });

  test("a server that stops answering is marked down within seconds and comes back by itself", async () => {
    const flaky = await sim({ kind: "ollama", models: ["m:latest"] });
    gw = await startFlotilla({ yaml: yaml([{ sim: flaky }], "poll:\n  interval_ms: 200\n  timeout_ms: 200\n") });
    const up = async () => {
      const { servers } = (await (await gw!.admin("/admin/servers")).json()) as { servers: Array<{ up: boolean }> };
      return servers[0].up;
    };
    assert.equal(await up(), true);
    flaky.fail({ path: "/api/tags", status: 500, times: 5 });
    await waitFor(async () => !(await up()), 3000);
    const res = await gw.admin("/api/chat", { method: "POST", body: chat() });
    assert.equal(res.status, 503);
    assert.ok(res.headers.get("retry-after"));
    await waitFor(up, 5000);
  });

  test("a client that goes away aborts the upstream request", async () => {
    const slow = await sim({ kind: "ollama", models: ["m:latest"], tokens: Array(50).fill("tok "), tokenIntervalMs: 40 });
    // The aborted fetch may leave its socket open; shutdown then waits its bound, kept short here.
    gw = await startFlotilla({ yaml: yaml([{ sim: slow }], "shutdown_timeout_ms: 500\n") });
    const controller = new AbortController();
    const res = await gw.admin("/api/chat", { method: "POST", body: chat("m", true), signal: controller.signal });
    const reader = res.body!.getReader();
    await reader.read();
    controller.abort();
    await waitFor(async () => slow.aborted >= 1, 3000);
  });

  test("requests beyond max_concurrency wait in the queue, and time out with 503 and Retry-After", async () => {
    const one = await sim({ kind: "ollama", models: ["m:latest"], latencyMs: 200 });
    gw = await startFlotilla({
      yaml: yaml([{ sim: one, extra: "    max_concurrency: 1\n" }], "routing:\n  queue_timeout_ms: 1000\n"),
    });
    const started = performance.now();
    const results = await Promise.all([1, 2, 3].map(() => gw!.admin("/api/chat", { method: "POST", body: chat() })));
    assert.deepEqual(results.map((r) => r.status), [200, 200, 200]);
    assert.ok(performance.now() - started >= 550, "three 200 ms answers one after another");
    assert.equal(one.maxInFlight, 1, "the server never saw two at once");
    const many = await Promise.all([1, 2, 3, 4, 5, 6, 7].map(() => gw!.admin("/api/chat", { method: "POST", body: chat() })));
    const refused = many.filter((r) => r.status === 503);
    assert.ok(refused.length > 0, "some waited too long");
    assert.ok(refused.every((r) => Number(r.headers.get("retry-after")) >= 1));
    assert.equal(((await refused[0].json()) as { code: string }).code, "queue_timeout");
  });

  test("a server that drops mid-stream ends the stream with a readable error", async () => {
    const dropper = await sim({ kind: "ollama", models: ["m:latest"], tokens: Array(20).fill("x ") });
    dropper.fail({ path: "/api/chat", dropAfterChunks: 2 });
    gw = await startFlotilla({ yaml: yaml([{ sim: dropper }]) });
    const res = await gw.admin("/api/chat", { method: "POST", body: chat("m", true) });
    assert.equal(res.status, 200);
    const lines = (await res.text()).trim().split("\n").map((l) => JSON.parse(l) as { error?: string });
    assert.match(lines.at(-1)?.error ?? "", /stopped mid-answer/);
  });

  test("with quantization fallback on, another quantization answers and the response says so", async () => {
    const q8 = await sim({ kind: "ollama", models: ["llama3:8b-instruct-q8_0"] });
    gw = await startFlotilla({ yaml: yaml([{ sim: q8 }], "routing:\n  fallback_quantization: true\n") });
    const res = await gw.admin("/api/chat", { method: "POST", body: chat("llama3:8b-instruct-q4_K_M") });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("x-flotilla-fallback-model"), "llama3:8b-instruct-q8_0");
    assert.equal((q8.requests.at(-1)?.body as { model: string }).model, "llama3:8b-instruct-q8_0", "the server is asked for what it has");
  });

  test("a conversation returns to the server that served it", async () => {
    // Both start with the model loaded: a poll seeing it loaded on one only would (rightly) prefer that one.
    const a = await sim({ kind: "ollama", models: ["m:latest"], loaded: ["m:latest"] });
    const b = await sim({ kind: "ollama", models: ["m:latest"], loaded: ["m:latest"] });
    gw = await startFlotilla({ yaml: yaml([{ sim: a }, { sim: b }]) });
    const turn = (messages: Array<{ role: string; content: string }>) =>
      gw!.admin("/api/chat", { method: "POST", body: JSON.stringify({ model: "m", stream: false, messages }) }).then((r) => r.headers.get("x-flotilla-server"));
    const first = await turn([{ role: "system", content: "be kind" }, { role: "user", content: "hello" }]);
    const servers = new Set<string | null>();
    for (let i = 0; i < 4; i++) {
      servers.add(await turn([{ role: "system", content: "be kind" }, { role: "user", content: "hello" }, { role: "assistant", content: "hi" }, { role: "user", content: `more ${i}` }]));
    }
    // That unrelated conversations follow normal routing is the router unit test's part: here poll latencies under load decide it.
    assert.deepEqual([...servers], [first], "every later turn went back to the first server");
  });

  test("a server changed at run time with PUT is routed by its new settings", async () => {
    const a = await sim({ kind: "ollama", models: ["m:latest"], latencyMs: 150 });
    gw = await startFlotilla({ servers: [`${a.url},ollama`] });
    const name = nameOf(a);
    const put = await gw.admin(`/admin/servers/${encodeURIComponent(name)}`, { method: "PUT", body: JSON.stringify({ max_concurrency: 1 }) });
    assert.equal(put.status, 200);
    assert.equal(((await put.json()) as { max_concurrency: number }).max_concurrency, 1);
    await Promise.all([1, 2].map(() => gw!.admin("/api/chat", { method: "POST", body: chat() })));
    assert.equal(a.maxInFlight, 1);
    const bad = await gw.admin(`/admin/servers/${encodeURIComponent(name)}`, { method: "PUT", body: JSON.stringify({ max_concurrency: 0 }) });
    assert.equal(bad.status, 400);
    assert.equal(((await bad.json()) as { code: string }).code, "invalid_request");
  });

  test("shutdown lets a stream in flight finish, then refuses new connections", async () => {
    const slow = await sim({ kind: "ollama", models: ["m:latest"], tokens: Array(25).fill("t "), tokenIntervalMs: 30 });
    gw = await startFlotilla({ yaml: yaml([{ sim: slow }]) });
    const res = await gw.admin("/api/chat", { method: "POST", body: chat("m", true) });
    const text = res.text();
    await new Promise((r) => setTimeout(r, 150));
    const exited = gw.stop();
    const lines = (await text).trim().split("\n").map((l) => JSON.parse(l) as { done: boolean; message: { content: string } });
    assert.equal(lines.length, 26, "every token and the final line arrived");
    assert.equal(lines.at(-1)?.done, true);
    assert.equal(await exited, 0);
    await assert.rejects(fetch(`${gw.url}/healthz`));
    gw = undefined;
  });

  test("a large embeddings batch is split across servers and joined in order", async () => {
    const a = await sim({ kind: "ollama", models: ["e:latest"] });
    const b = await sim({ kind: "ollama", models: ["e:latest"] });
    gw = await startFlotilla({ yaml: yaml([{ sim: a }, { sim: b }], "routing:\n  embed_split_min: 8\n") });
    const input = Array.from({ length: 12 }, (_, i) => `text ${i}`);
    const split = (await (await gw.admin("/api/embed", { method: "POST", body: JSON.stringify({ model: "e", input }) })).json()) as {
      embeddings: number[][];
    };
    const parts = [a, b].map((s) => s.requests.filter((r) => r.path === "/api/embed").length);
    const single = (await (await fetch(`${a.url}/api/embed`, { method: "POST", body: JSON.stringify({ model: "e", input }) })).json()) as {
      embeddings: number[][];
    };
    assert.deepEqual(split.embeddings, single.embeddings);
    assert.deepEqual(parts, [1, 1], "each server took one part");
  });

  test("a split embeddings batch stops on every server when its client goes away", async () => {
    const a = await sim({ kind: "ollama", models: ["e:latest"], latencyMs: 1500 });
    const b = await sim({ kind: "ollama", models: ["e:latest"], latencyMs: 1500 });
    gw = await startFlotilla({ yaml: yaml([{ sim: a }, { sim: b }], "routing:\n  embed_split_min: 8\n") });
    const input = Array.from({ length: 12 }, (_, i) => `text ${i}`);
    const gone = new AbortController();
    const sent = gw.admin("/api/embed", { method: "POST", body: JSON.stringify({ model: "e", input }), signal: gone.signal }).catch(() => undefined);
    await waitFor(async () => a.inFlight + b.inFlight === 2);
    gone.abort();
    await sent;
    await waitFor(async () => a.aborted === 1 && b.aborted === 1, 1000);
  });
});

async function waitFor(check: () => Promise<boolean>, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail(`condition not met within ${ms} ms`);
}

import assert from "node:assert/strict";
import { once } from "node:events";
import { networkInterfaces } from "node:os";
import { afterEach, describe, test } from "node:test";
import { Ollama } from "ollama";
import OpenAI from "openai";
import WebSocket from "ws";
import { ADMIN_KEY, freePort, readLines, simulators, startFlotilla, waitFor, type Flotilla } from "./harness.js";
import { nodes, startWorker, waitForNode, type WorkerProcess } from "./worker-harness.js";

const sims = simulators();
const workers: WorkerProcess[] = [];
let gw: Flotilla | undefined;

afterEach(async () => {
  await Promise.all(workers.splice(0).map((w) => w.stop("SIGKILL")));
  await gw?.stop();
  gw = undefined;
  await sims.closeAll();
});

const sim = sims.start;

function worker(args: string[], env?: Record<string, string>): WorkerProcess {
  const w = startWorker(args, env);
  workers.push(w);
  return w;
}

// A short shutdown bound too: an aborted fetch leaves its socket open, and stopping would wait it out.
const FAST_HEARTBEAT = "shutdown_timeout_ms: 300\nworkers:\n  heartbeat_interval_ms: 200\n  heartbeat_timeout_ms: 1000\n";

/** Opens a raw socket and sends one register message; resolves with the first reply and how the socket closed, if it did. */
async function register(
  url: string,
  message: Record<string, unknown>,
  headers: Record<string, string> = {},
): Promise<{ ws: WebSocket; reply: Record<string, unknown>; closed: Promise<{ code: number; reason: string }> }> {
  const ws = new WebSocket(url.replace(/^http/, "ws") + "/api/workers/connect", { headers });
  const closed = once(ws, "close").then(([code, reason]) => ({ code: code as number, reason: String(reason) }));
  await once(ws, "open");
  ws.send(JSON.stringify({ type: "register", ...message }));
  const [data] = (await once(ws, "message")) as [Buffer];
  return { ws, reply: JSON.parse(data.toString()) as Record<string, unknown>, closed };
}

describe("worker registration and the client key (seed 000)", () => {
  test("with a client key configured: the right key registers, a missing or wrong one is refused", async () => {
    gw = await startFlotilla({ env: { FLOTILLA_CLIENT_KEY: "ck-secret" } });
    const ok = await register(gw.url, { client_key: "ck-secret", worker_name: "w-ok", models: ["m"] });
    assert.equal(ok.reply.type, "registered");
    assert.equal(ok.reply.name, "w-ok");
    assert.match(String(ok.reply.worker_id), /^worker-/);
    const listed = await waitForNode(gw, "w-ok");
    assert.deepEqual([listed.kind, listed.api, listed.models], ["worker", "ollama", ["m"]]);
    ok.ws.close();

    const missing = await register(gw.url, { worker_name: "w-none" });
    assert.equal(missing.reply.type, "error");
    assert.deepEqual(await missing.closed, { code: 4401, reason: "a client_key is required" });
    const wrong = await register(gw.url, { client_key: "nope", worker_name: "w-wrong" });
    assert.deepEqual(await wrong.closed, { code: 4401, reason: "the client_key is wrong" });
    assert.equal((await nodes(gw)).some((n) => n.name === "w-none" || n.name === "w-wrong"), false);
  });

  test("with no client key configured: none registers, sending one fails at once", async () => {
    gw = await startFlotilla();
    const ok = await register(gw.url, { worker_id: "id-1" });
    assert.deepEqual([ok.reply.type, ok.reply.worker_id, ok.reply.name], ["registered", "id-1", "id-1"]);
    ok.ws.close();
    const sent = await register(gw.url, { client_key: "anything" });
    assert.equal(sent.reply.type, "error");
    const closed = await sent.closed;
    assert.equal(closed.code, 4401);
    assert.match(closed.reason, /no client key configured/);
  });

  test("with no client key configured: a worker from another machine is refused, so it cannot take other users' requests", async (t) => {
    const victim = await sim({ kind: "ollama", models: ["good"] });
    gw = await startFlotilla({ servers: [victim.url], args: ["--host", "0.0.0.0"] });
    // Through a reverse proxy on the gateway's machine: loopback, but someone else dialled.
    const proxied = await register(gw.url, { worker_id: "evil", models: ["good"], max_concurrency: 100 }, { "x-forwarded-for": "203.0.113.9" });
    assert.equal(proxied.reply.type, "error");
    const closed = await proxied.closed;
    assert.equal(closed.code, 4401);
    assert.match(closed.reason, /no client key configured, so it admits only connections from its own machine/);
    assert.match(gw.output(), /refused a worker from 127\.0\.0\.1: this server has no client key configured/);

    const external = Object.values(networkInterfaces())
      .flat()
      .find((i) => i && i.family === "IPv4" && !i.internal);
    if (!external) return t.diagnostic("no non-loopback IPv4 interface here: the direct case was not run");
    const port = new URL(gw.url).port;
    const direct = await register(`http://${external.address}:${port}`, { worker_id: "evil", models: ["good"], max_concurrency: 100 });
    assert.equal(direct.reply.type, "error");
    assert.equal((await direct.closed).code, 4401);
    assert.equal((await nodes(gw)).some((n) => n.name === "evil"), false);
    // Every request for the model still goes to the real server.
    const ollama = new Ollama({ host: gw.url, headers: { authorization: `Bearer ${ADMIN_KEY}` } });
    for (let i = 0; i < 4; i++) assert.equal((await ollama.generate({ model: "good", prompt: "hi" })).done, true);
    assert.equal(victim.requests.filter((r) => r.path === "/api/generate").length, 4);
  });

  test("workers.allowed_models: a worker is routed only the models an admin let it serve", async () => {
    gw = await startFlotilla({ yaml: 'workers:\n  allowed_models:\n    gpu-a: ["llama3:*"]\n' });
    const a = await register(gw.url, { worker_id: "gpu-a", models: ["llama3:8b", "good:latest"] });
    assert.equal(a.reply.type, "registered");
    const other = await register(gw.url, { worker_id: "gpu-b", models: ["llama3:8b"] });
    assert.equal(other.reply.type, "registered");
    await waitForNode(gw, "gpu-b");
    const listed = Object.fromEntries((await nodes(gw)).map((n) => [n.name, n.models]));
    assert.deepEqual(listed, { "gpu-a": ["llama3:8b"], "gpu-b": [] });
    // A heartbeat cannot add what registration could not.
    a.ws.send(JSON.stringify({ type: "heartbeat", models: { available: [{ name: "llama3:8b" }, { name: "good:latest" }], loaded: [{ name: "good:latest" }] } }));
    await waitFor("the withheld model logged", () => /worker gpu-a offers model good:latest, which workers.allowed_models does not let it serve/.exec(gw?.output() ?? ""));
    const res = await fetch(`${gw.url}/api/chat`, { method: "POST", headers: { authorization: `Bearer ${ADMIN_KEY}` }, body: JSON.stringify({ model: "good", messages: [] }) });
    assert.equal(res.status, 404);
    assert.deepEqual(
      (await nodes(gw)).find((n) => n.name === "gpu-a")?.loaded,
      [],
    );
    a.ws.close();
    other.ws.close();
  });

  test("a bad register message, a name taken by a server, and a plain GET are refused clearly", async () => {
    const polled = await sim({ kind: "ollama" });
    gw = await startFlotilla({ servers: [polled.url] });
    const bad = await register(gw.url, { max_concurrency: 0 });
    const closed = await bad.closed;
    assert.equal(closed.code, 4400);
    assert.match(closed.reason, /max_concurrency/);
    const taken = await register(gw.url, { worker_name: new URL(polled.url).host });
    assert.equal((await taken.closed).code, 4409);
    const plain = await fetch(gw.url + "/api/workers/connect");
    assert.equal(plain.status, 426);
    assert.match(((await plain.json()) as { error: string }).error, /WebSocket/);
  });

  test("the same worker_id reconnecting replaces the old connection", async () => {
    gw = await startFlotilla();
    const first = await register(gw.url, { worker_id: "same", models: ["a"] });
    const second = await register(gw.url, { worker_id: "same", models: ["b"] });
    assert.equal(second.reply.type, "registered");
    const closed = await first.closed;
    assert.equal(closed.code, 4000);
    const view = await waitFor("one node with model b", async () => {
      const list = (await nodes(gw as Flotilla)).filter((n) => n.name === "same");
      return list.length === 1 && list[0].models[0] === "b" ? list[0] : undefined;
    });
    assert.equal(view.up, true);
    second.ws.close();
  });
});

test("flotilla worker refuses an --upstream ending in /v1 at once, naming the address to give", async () => {
  const w = worker(["--server", "http://127.0.0.1:1", "--upstream", "http://127.0.0.1:8000/v1"]);
  const [code] = (await once(w.proc, "exit")) as [number];
  assert.equal(code, 2);
  assert.match(w.output(), /--upstream: "http:\/\/127\.0\.0\.1:8000\/v1" ends in \/v1: give the address without it \(http:\/\/127\.0\.0\.1:8000\)/);
});

describe("the worker agent relaying to a local server", () => {
  test("joins the fleet, reports models and system metrics, and serves the ollama and openai clients", async () => {
    const upstream = await sim({ kind: "ollama", models: ["m:latest"], loaded: ["m:latest"] });
    gw = await startFlotilla({ yaml: FAST_HEARTBEAT, env: { FLOTILLA_CLIENT_KEY: "ck" } });
    const w = worker(["--server", gw.url, "--client-key", "ck", "--name", "gpu-1", "--upstream", upstream.url]);
    await w.waitForLog(/registered with .* as gpu-1/);
    const view = await waitFor("heartbeat with models", async () => (await nodes(gw as Flotilla)).find((n) => n.name === "gpu-1" && n.loaded.length > 0));
    assert.deepEqual([view.kind, view.api, view.models, view.loaded], ["worker", "ollama", ["m:latest"], ["m:latest"]]);
    assert.ok((view.system?.cpu?.cores ?? 0) >= 1);

    const ollama = new Ollama({ host: gw.url, headers: { authorization: `Bearer ${ADMIN_KEY}` } });
    const answer = await ollama.chat({ model: "m", messages: [{ role: "user", content: "hi" }] });
    assert.equal(answer.message.content, "The quick brown fox jumps over lazy dogs.");
    let streamed = "";
    for await (const part of await ollama.generate({ model: "m", prompt: "hi", stream: true })) streamed += part.response;
    assert.equal(streamed, "The quick brown fox jumps over lazy dogs.");

    const openai = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: ADMIN_KEY });
    const completion = await openai.chat.completions.create({ model: "m", messages: [{ role: "user", content: "hi" }] });
    assert.equal(completion.choices[0].message.content, "The quick brown fox jumps over lazy dogs.");
    const tags = await ollama.list();
    assert.deepEqual(tags.models.map((m) => m.name), ["m:latest"]);
    assert.equal(upstream.requests.filter((r) => r.path === "/api/chat").length, 2);
  });

  test("many concurrent streams share one socket, up to max_concurrency", async () => {
    const upstream = await sim({ kind: "ollama", models: ["m:latest"], loaded: ["m:latest"], tokenIntervalMs: 20 });
    gw = await startFlotilla({ yaml: FAST_HEARTBEAT });
    const w = worker(["--server", gw.url, "--name", "w", "--max-concurrency", "6", "--upstream", upstream.url]);
    await w.waitForLog(/registered/);
    await waitForNode(gw, "w");
    const streams = Array.from({ length: 12 }, () =>
      (gw as Flotilla).admin("/api/chat", { method: "POST", body: JSON.stringify({ model: "m", messages: [{ role: "user", content: "hi" }] }) }).then(readLines),
    );
    const results = await Promise.all(streams);
    for (const lines of results) {
      const parts = lines.map((l) => JSON.parse(l) as { message?: { content: string }; done: boolean });
      assert.equal(parts.map((p) => p.message?.content ?? "").join(""), "The quick brown fox jumps over lazy dogs.");
      assert.equal(parts.at(-1)?.done, true);
    }
    assert.equal(upstream.maxInFlight, 6, "the gateway admits at most the worker's max_concurrency at once");
  });

  test("a client that goes away cancels the request on the worker and its upstream", async () => {
    const upstream = await sim({ kind: "ollama", models: ["m:latest"], tokens: Array.from({ length: 200 }, (_, i) => ` t${i}`), tokenIntervalMs: 20 });
    gw = await startFlotilla({ yaml: FAST_HEARTBEAT });
    const w = worker(["--server", gw.url, "--name", "w", "--upstream", upstream.url]);
    await w.waitForLog(/registered/);
    await waitForNode(gw, "w");
    const abort = new AbortController();
    const res = await gw.admin("/api/generate", { method: "POST", body: JSON.stringify({ model: "m", prompt: "long" }), signal: abort.signal });
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    await reader.read();
    abort.abort();
    await waitFor("the upstream answer to be aborted", () => upstream.aborted === 1, 5000);
    assert.ok(upstream.requests.length > 0);
  });

  test("a slow client holds the worker back instead of filling the gateway", async () => {
    const token = "x".repeat(4096);
    const upstream = await sim({ kind: "ollama", models: ["m:latest"], tokens: Array.from({ length: 5000 }, () => token) });
    gw = await startFlotilla({ yaml: FAST_HEARTBEAT });
    const w = worker(["--server", gw.url, "--name", "w", "--upstream", upstream.url]);
    await w.waitForLog(/registered/);
    await waitForNode(gw, "w");
    const res = await gw.admin("/api/generate", { method: "POST", body: JSON.stringify({ model: "m", prompt: "a lot" }) });
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    let received = (await reader.read()).value?.length ?? 0;
    // About 20 MB are on offer; unread, they must stay upstream, not pile up in the gateway.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    assert.equal(upstream.inFlight, 1, "the upstream is still held back by the paused stream");
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      received += value.length;
    }
    assert.ok(received > 5000 * 4096, `the whole answer arrived in the end (${received} bytes)`);
    assert.equal(upstream.inFlight, 0);
  });

  test("a worker killed mid-stream ends that stream with an error; its server failing before answering is retried elsewhere", async () => {
    const slow = await sim({ kind: "ollama", models: ["m:latest"], loaded: ["m:latest"], tokens: Array.from({ length: 100 }, (_, i) => ` t${i}`), tokenIntervalMs: 30 });
    gw = await startFlotilla({ yaml: FAST_HEARTBEAT });
    const w = worker(["--server", gw.url, "--name", "doomed", "--upstream", slow.url]);
    await w.waitForLog(/registered/);
    await waitForNode(gw, "doomed");
    const res = await gw.admin("/api/generate", { method: "POST", body: JSON.stringify({ model: "m", prompt: "x" }) });
    assert.equal(res.status, 200);
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    await reader.read();
    await w.stop("SIGKILL");
    let rest = "";
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      rest += Buffer.from(value).toString();
    }
    const last = JSON.parse(rest.trim().split("\n").at(-1) as string) as { error?: string };
    assert.match(last.error ?? "", /worker doomed disconnected/);
    await waitForNode(gw, "doomed", false);

    // Before the first byte: the worker's upstream fails with a 500, the gateway moves on to a polled server.
    const failing = await sim({ kind: "ollama", models: ["n:latest"], loaded: ["n:latest"] });
    failing.fail({ path: "/api/chat", status: 500 });
    const polled = await sim({ kind: "ollama", models: ["n:latest"] });
    await gw.admin("/admin/servers", { method: "POST", body: JSON.stringify({ name: "polled", url: polled.url, kind: "ollama" }) });
    const w2 = worker(["--server", gw.url, "--name", "flaky", "--upstream", failing.url]);
    await w2.waitForLog(/registered/);
    await waitFor("flaky to report n loaded", async () => (await nodes(gw as Flotilla)).find((n) => n.name === "flaky" && n.loaded.length > 0));
    const retried = await gw.admin("/api/chat", { method: "POST", body: JSON.stringify({ model: "n", stream: false, messages: [{ role: "user", content: "hi" }] }) });
    assert.equal(retried.status, 200);
    assert.equal(retried.headers.get("x-flotilla-server"), "polled");
    assert.equal(failing.requests.filter((r) => r.path === "/api/chat").length, 1);
  });

  test("a worker that drops before answering has the request retried on another server", async () => {
    const hanging = await sim({ kind: "ollama", models: ["m:latest"], loaded: ["m:latest"] });
    hanging.fail({ path: "/api/chat", hang: true });
    const polled = await sim({ kind: "ollama", models: ["m:latest"] });
    gw = await startFlotilla({ servers: [`${polled.url},ollama`], yaml: FAST_HEARTBEAT });
    const w = worker(["--server", gw.url, "--name", "fragile", "--upstream", hanging.url]);
    await w.waitForLog(/registered/);
    await waitFor("fragile to report m loaded", async () => (await nodes(gw as Flotilla)).find((n) => n.name === "fragile" && n.loaded.length > 0));
    // The worker has m loaded and the polled server does not: the worker is tried first.
    const pending = gw.admin("/api/chat", { method: "POST", body: JSON.stringify({ model: "m", stream: false, messages: [{ role: "user", content: "hi" }] }) });
    await waitFor("the request to reach the worker's server", () => hanging.inFlight === 1);
    await w.stop("SIGKILL");
    const res = await pending;
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("x-flotilla-server"), new URL(polled.url).host);
  });

  test("a silent worker is found dead by heartbeat, and comes back when it wakes", async () => {
    const upstream = await sim({ kind: "ollama", models: ["m:latest"] });
    gw = await startFlotilla({ yaml: FAST_HEARTBEAT });
    const w = worker(["--server", gw.url, "--name", "sleepy", "--upstream", upstream.url]);
    await w.waitForLog(/registered/);
    await waitForNode(gw, "sleepy");
    w.proc.kill("SIGSTOP");
    const started = Date.now();
    const down = await waitForNode(gw, "sleepy", false, 5000);
    assert.ok(Date.now() - started < 3000, "found within seconds");
    assert.match(down.last_error ?? "", /heartbeat/);
    w.proc.kill("SIGCONT");
    await waitForNode(gw, "sleepy", true, 10_000);
  });

  test("the agent keeps trying until the gateway is there, and reconnects when it restarts", async () => {
    const upstream = await sim({ kind: "ollama", models: ["m:latest"] });
    const port = await freePort();
    const w = worker(["--server", `http://127.0.0.1:${port}`, "--name", "patient", "--upstream", upstream.url]);
    await w.waitForLog(/reconnecting in/);
    const args = ["--port", String(port)];
    gw = await startFlotilla({ args, yaml: FAST_HEARTBEAT });
    await waitForNode(gw, "patient", true, 10_000);
    const idBefore = /\(id ([^)]+)\)/.exec(w.output())?.[1];
    await gw.stop();
    gw = await startFlotilla({ args, yaml: FAST_HEARTBEAT });
    await waitForNode(gw, "patient", true, 10_000);
    const ids = [...w.output().matchAll(/\(id ([^)]+)\)/g)].map((m) => m[1]);
    assert.ok(ids.length >= 2);
    assert.ok(ids.every((id) => id === idBefore), "the worker keeps its id across reconnects");
  });

  test("routes between a polled server and a worker by the same rules", async () => {
    const polled = await sim({ kind: "ollama", models: ["m:latest"], loaded: ["m:latest"] });
    const behind = await sim({ kind: "openai", models: ["m", "only-here"] });
    gw = await startFlotilla({ servers: [`${polled.url},ollama`], yaml: FAST_HEARTBEAT });
    const w = worker(["--server", gw.url, "--name", "nat", "--upstream", behind.url, "--upstream-kind", "openai"]);
    await w.waitForLog(/registered/);
    const view = await waitFor("nat to list its models", async () => (await nodes(gw as Flotilla)).find((n) => n.name === "nat" && n.loaded.length === 2));
    assert.equal(view.api, "openai");
    const chat = async (model: string, headers: Record<string, string> = {}, content = `about ${model}`) => {
      const res = await (gw as Flotilla).admin("/api/chat", {
        method: "POST",
        headers,
        body: JSON.stringify({ model, stream: false, messages: [{ role: "user", content }] }),
      });
      assert.equal(res.status, 200);
      assert.equal(((await res.json()) as { message: { content: string } }).message.content, "The quick brown fox jumps over lazy dogs.");
      return res.headers.get("x-flotilla-server");
    };
    assert.equal(await chat("only-here"), "nat", "a model only the worker has goes to the worker");
    assert.ok(behind.requests.some((r) => r.path === "/v1/chat/completions"), "translated for the worker's OpenAI server");
    assert.equal(await chat("m", { "x-ollama-pin-server": "nat" }), "nat", "a pin names a worker like any server");
    // Both have m loaded: the busier one loses. Hold a slot on the worker with a slow request, then ask again.
    behind.fail({ path: "/v1/chat/completions", hang: true, times: 1 });
    const held = (gw as Flotilla).admin("/api/chat", {
      method: "POST",
      headers: { "x-ollama-pin-server": "nat" },
      body: JSON.stringify({ model: "m", stream: false, messages: [{ role: "user", content: "hold" }] }),
    });
    await waitFor("the held request to reach the worker's server", () => behind.inFlight === 1);
    // (A new conversation: the pinned one above would stick to the worker.)
    assert.equal(await chat("m", {}, "a new conversation"), new URL(polled.url).host, "the worker is busy, the polled server is not");
    await gw.stop();
    gw = undefined;
    await held.catch(() => undefined);
  });
});

import assert from "node:assert/strict";
import { once } from "node:events";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import WebSocket from "ws";
import { freePort, startFlotilla, waitFor, type Flotilla } from "./harness.js";
import { startAgent, type WorkerProcess } from "./worker-harness.js";

const CLIENT_KEY = "relay-key-0123456789";
const TOKEN = "the-relays-own-token";
const FIXTURE = join(process.cwd(), "dist/test/fixtures/mcp-server.js");
const CALL_TIMEOUT_MS = 1500;

interface RpcError {
  jsonrpc: string;
  id: unknown;
  error: { code: number; message: string; data: { code: string; mcp?: string; request_id: string } };
}

/** `flotilla mcp-relay` in front of the fixture MCP server, noting its events to a file. */
function relay(server: string, args: string[]): { proc: WorkerProcess; events(): string[] } {
  const log = join(mkdtempSync(join(tmpdir(), "flotilla-mcp-")), "events.log");
  const proc = startAgent("mcp-relay", ["--server", server, "--client-key", CLIENT_KEY, ...args, "--", process.execPath, FIXTURE], { MCP_FIXTURE_LOG: log });
  const events = () => {
    try {
      return readFileSync(log, "utf8").trim().split("\n");
    } catch {
      return [];
    }
  };
  return { proc, events };
}

const rpc = (id: number | string, method: string, params: object = {}) => ({ jsonrpc: "2.0", id, method, params });
const echo = (id: number | string, text: string) => rpc(id, "tools/call", { name: "echo", arguments: { text } });

describe("the MCP relay hub and flotilla mcp-relay (seed 000)", () => {
  let gw: Flotilla;
  let laptop: ReturnType<typeof relay>;

  before(async () => {
    gw = await startFlotilla({
      env: { FLOTILLA_CLIENT_KEY: CLIENT_KEY, FLOTILLA_MCP__CALL_TIMEOUT_MS: String(CALL_TIMEOUT_MS), FLOTILLA_MCP__MAX_CALLS_PER_RELAY: "2" },
    });
    laptop = relay(gw.url, ["--id", "laptop", "--auth-token", TOKEN, "--name", "my-laptop"]);
    await laptop.proc.waitForLog(/callers reach it at POST \S+\/api\/mcp\/id\/laptop/);
  });
  after(async () => {
    await laptop?.proc.stop();
    await gw?.stop();
  });

  const call = (id: string, body: unknown, init: { token?: string | null; signal?: AbortSignal } = {}) =>
    fetch(`${gw.url}/api/mcp/id/${id}`, {
      method: "POST",
      headers: { "content-type": "application/json", ...(init.token === null ? {} : { authorization: `Bearer ${init.token ?? TOKEN}` }) },
      body: typeof body === "string" ? body : JSON.stringify(body),
      signal: init.signal,
    });

  test("the official MCP client reaches a stdio MCP server through the relay, with the relay's token", async () => {
    const client = new Client({ name: "test", version: "1" });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${gw.url}/api/mcp/id/laptop`), { requestInit: { headers: { authorization: `Bearer ${TOKEN}` } } }));
    try {
      assert.equal(client.getServerVersion()?.name, "fixture");
      assert.equal(client.getInstructions(), "A fixture for Flotilla's relay tests.");
      const tools = (await client.listTools()).tools.map((t) => t.name).sort();
      assert.deepEqual(tools, ["big", "echo", "slow"]);
      const answer = await client.callTool({ name: "echo", arguments: { text: "through the gateway" } });
      assert.deepEqual(answer.content, [{ type: "text", text: "echo: through the gateway" }]);
    } finally {
      await client.close();
    }
    const listed = (await (await gw.admin("/api/mcp/relays")).json()) as { relays: Array<{ id: string; name: string; calls: number; in_flight: number }> };
    const entry = listed.relays.find((r) => r.id === "laptop");
    assert.equal(entry?.name, "my-laptop");
    assert.ok((entry?.calls ?? 0) >= 3, "the relay counts its calls");
  });

  test("JSON-RPC as sent: a batch answers each request, notifications answer 202, errors are JSON-RPC errors saying what failed", async () => {
    const batch = await call("laptop", [rpc(1, "tools/list"), echo("b", "two"), { jsonrpc: "2.0", method: "notifications/progress", params: { progressToken: 1, progress: 1 } }]);
    assert.equal(batch.status, 200);
    const answers = (await batch.json()) as Array<{ id: unknown; result: { tools?: unknown[]; content?: unknown } }>;
    assert.deepEqual(answers.map((a) => a.id).sort(), [1, "b"]);
    assert.deepEqual(answers.find((a) => a.id === "b")?.result.content, [{ type: "text", text: "echo: two" }]);

    const note = await call("laptop", { jsonrpc: "2.0", method: "notifications/initialized" });
    assert.equal(note.status, 202);
    assert.equal(await note.text(), "");

    const noToken = await call("laptop", echo(7, "x"), { token: null });
    assert.equal(noToken.status, 401);
    const refused = (await noToken.json()) as RpcError;
    assert.equal(refused.id, 7);
    assert.equal(refused.error.data.mcp, "MCP_UNAUTHORIZED");

    const unknown = await call("nobody", echo(8, "x"));
    assert.equal(unknown.status, 404);
    const missing = (await unknown.json()) as RpcError;
    assert.equal(missing.jsonrpc, "2.0");
    assert.equal(missing.id, 8);
    assert.equal(missing.error.data.mcp, "MCP_PROVIDER_UNAVAILABLE");
    assert.match(missing.error.message, /no MCP relay is connected as "nobody"/);
    assert.equal(missing.error.data.request_id, unknown.headers.get("x-request-id"));

    const invalid = await call("laptop", { jsonrpc: "1.0", id: 1, method: "tools/list" });
    assert.equal(invalid.status, 400);
    assert.equal(((await invalid.json()) as RpcError).error.code, -32600);
    const notJson = await call("laptop", "{ not json");
    assert.equal(notJson.status, 400);
    assert.equal(((await notJson.json()) as RpcError).error.code, -32700);

    const get = await fetch(`${gw.url}/api/mcp/id/laptop`);
    assert.equal(get.status, 405);
    assert.equal(get.headers.get("allow"), "POST");
  });

  test("a caller that goes away cancels the call at the MCP server; one over the time limit ends with MCP_TIMEOUT and is cancelled too", async () => {
    const cancelled = () => laptop.events().filter((e) => e === "slow cancelled").length;
    const before = cancelled();
    const abort = new AbortController();
    const pending = call("laptop", rpc(1, "tools/call", { name: "slow", arguments: {} }), { signal: abort.signal }).catch((err: Error) => err);
    await waitFor("the slow call to start", () => laptop.events().filter((e) => e === "slow started").length > before);
    abort.abort();
    assert.ok((await pending) instanceof Error);
    await waitFor("the MCP server to hear of the cancel", () => cancelled() === before + 1);
    assert.doesNotMatch(gw.output(), /unhandled error/, "a caller going away is no error of the gateway's");

    const started = performance.now();
    const late = await call("laptop", rpc(2, "tools/call", { name: "slow", arguments: {} }));
    const waited = performance.now() - started;
    assert.equal(late.status, 504);
    const timeout = (await late.json()) as RpcError;
    assert.equal(timeout.id, 2);
    assert.equal(timeout.error.data.mcp, "MCP_TIMEOUT");
    assert.match(timeout.error.message, /mcp\.call_timeout_ms/);
    assert.ok(waited >= CALL_TIMEOUT_MS - 50 && waited < CALL_TIMEOUT_MS + 3000, `answered after ${Math.round(waited)} ms`);
    await waitFor("the timed-out call to be cancelled at the server", () => cancelled() === before + 2);
  });

  test("calls at once are bounded per relay (mcp.max_calls_per_relay)", async () => {
    const abort = new AbortController();
    const slow = [1, 2].map((id) => call("laptop", rpc(id, "tools/call", { name: "slow", arguments: {} }), { signal: abort.signal }).catch(() => undefined));
    await waitFor("two calls in flight", async () => {
      const { relays } = (await (await gw.admin("/api/mcp/relays")).json()) as { relays: Array<{ id: string; in_flight: number; methods: Record<string, number> }> };
      const entry = relays.find((r) => r.id === "laptop");
      return entry?.in_flight === 2 && entry.methods["tools/call"] === 2;
    });
    const third = await call("laptop", echo(3, "one too many"));
    assert.equal(third.status, 429);
    assert.equal(((await third.json()) as RpcError).error.data.mcp, "MCP_LIMIT_EXCEEDED");
    abort.abort();
    await Promise.all(slow);
  });

  test("a relay that goes away mid-call answers a JSON-RPC error at once, and another takes its id", async () => {
    const doomed = relay(gw.url, ["--id", "doomed"]);
    await doomed.proc.waitForLog(/callers reach it/);
    const pending = call("doomed", rpc(1, "tools/call", { name: "slow", arguments: {} }));
    await waitFor("the slow call to start", () => doomed.events().includes("slow started"));
    const killedAt = performance.now();
    await doomed.proc.stop("SIGKILL");
    const res = await pending;
    assert.ok(performance.now() - killedAt < 1000, "answered as soon as the relay was gone");
    assert.equal(res.status, 503);
    const gone = (await res.json()) as RpcError;
    assert.equal(gone.error.data.mcp, "MCP_PROVIDER_UNAVAILABLE");
    assert.match(gone.error.message, /went away during the call/);

    const again = relay(gw.url, ["--id", "doomed"]);
    try {
      await again.proc.waitForLog(/callers reach it/);
      const res2 = await call("doomed", echo(2, "back"));
      assert.equal(res2.status, 200);
    } finally {
      await again.proc.stop();
    }
  });

  test("the client key rules are the workers': a wrong or missing key, or an id in use, is refused", async () => {
    const register = async (message: object) => {
      const ws = new WebSocket(`${gw.url.replace("http", "ws")}/api/mcp/connect`);
      await once(ws, "open");
      ws.send(JSON.stringify(message));
      const [code, reason] = (await once(ws, "close")) as [number, Buffer];
      return { code, reason: reason.toString() };
    };
    assert.deepEqual(await register({ id: "x", client_key: "wrong" }), { code: 1008, reason: "unauthorized: the client_key is wrong" });
    assert.deepEqual(await register({ id: "x" }), { code: 1008, reason: "unauthorized: a client_key is required" });
    assert.deepEqual(await register({ id: "laptop", client_key: CLIENT_KEY }), { code: 1008, reason: 'id in use: a relay is connected as "laptop"' });
    assert.match((await register({ id: "bad id!", client_key: CLIENT_KEY })).reason, /^invalid register: \/id/);
    const plain = await fetch(`${gw.url}/api/mcp/connect`);
    assert.equal(plain.status, 426);
  });

  test("a page on another site cannot make a browser call a relay's tools (a form post, text/plain): refused, and the tool never runs", async () => {
    const res = await fetch(`${gw.url}/api/mcp/id/laptop`, {
      method: "POST",
      headers: { "content-type": "text/plain", origin: "https://evil.example", authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify(echo(7, "forged")),
    });
    assert.equal(res.status, 403);
    assert.match(((await res.json()) as RpcError).error.message, /requests from pages on another origin \(https:\/\/evil\.example\) are refused/);
    const own = await fetch(`${gw.url}/api/mcp/id/laptop`, {
      method: "POST",
      headers: { "content-type": "application/json", origin: gw.url, authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify(echo(8, "from its own page")),
    });
    assert.equal(own.status, 200);
    assert.ok(laptop.events().includes("echo from its own page"));
    assert.ok(!laptop.events().includes("echo forged"), "the forged call never reached the tool");
  });

  test("a relay speaking nfrx's frames is served the same way", async () => {
    const ws = new WebSocket(`${gw.url.replace("http", "ws")}/api/mcp/connect`);
    await once(ws, "open");
    ws.send(JSON.stringify({ id: "", client_name: "nfrx-mcp", client_key: CLIENT_KEY }));
    const [ack] = (await once(ws, "message")) as [Buffer];
    const id = (JSON.parse(ack.toString()) as { id: string }).id;
    assert.match(id, /^[0-9a-f-]{36}$/, "a relay that names no id is given one");
    const seen: Array<{ t: string; msg?: string; auth?: string; hint?: string }> = [];
    ws.on("message", (data: Buffer) => {
      const frame = JSON.parse(data.toString()) as { t: string; sid: string; payload?: { id: unknown }; msg?: string; auth?: string; hint?: string };
      seen.push(frame);
      if (frame.t === "open") ws.send(JSON.stringify({ t: "open.ok", sid: frame.sid }));
      if (frame.t === "rpc") {
        ws.send(JSON.stringify({ t: "rpc", sid: frame.sid, payload: { jsonrpc: "2.0", id: frame.payload?.id, result: { from: "nfrx" } } }));
        ws.send(JSON.stringify({ t: "close", sid: frame.sid, msg: "done" }));
      }
    });
    try {
      const res = await call(id, rpc(5, "tools/list"), { token: "caller-token" });
      assert.equal(res.status, 200);
      assert.deepEqual(await res.json(), { jsonrpc: "2.0", id: 5, result: { from: "nfrx" } });
      await waitFor("the gateway's close frame", () => seen.some((f) => f.t === "close"));
      const open = seen.find((f) => f.t === "open");
      assert.equal(open?.auth, "caller-token", "the caller's bearer is passed to the relay");
      assert.equal(open?.hint, "tools/list");
      assert.equal(seen.find((f) => f.t === "close")?.msg, "done");
    } finally {
      ws.close();
    }
  });
});

test("flotilla mcp-relay waits for the gateway, and keeps the id it was given across reconnects", async () => {
  const port = await freePort();
  const env = { FLOTILLA_CLIENT_KEY: CLIENT_KEY };
  const patient = relay(`http://127.0.0.1:${port}`, []);
  let gw: Flotilla | undefined;
  try {
    await patient.proc.waitForLog(/reconnecting in/);
    gw = await startFlotilla({ args: ["--port", String(port)], env });
    await patient.proc.waitForLog(/callers reach it/);
    const first = /registered with \S+ as (\S+)/.exec(patient.proc.output())?.[1];
    assert.ok(first);
    await gw.stop();
    gw = await startFlotilla({ args: ["--port", String(port)], env });
    await waitFor("a second registration", () => [...patient.proc.output().matchAll(/registered with \S+ as (\S+)/g)].length >= 2, 15_000);
    const ids = [...patient.proc.output().matchAll(/registered with \S+ as (\S+)/g)].map((m) => m[1]);
    assert.ok(ids.every((id) => id === first), `one id throughout: ${ids.join(", ")}`);
    const res = await fetch(`${gw.url}/api/mcp/id/${first}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(echo(1, "again")) });
    assert.equal(res.status, 200);
  } finally {
    await patient.proc.stop();
    await gw?.stop();
  }
});

test("with no client key configured, a relay is admitted only from the gateway's own machine", async () => {
  const gw = await startFlotilla();
  try {
    const connect = async (headers: Record<string, string>) => {
      const ws = new WebSocket(`${gw.url.replace("http", "ws")}/api/mcp/connect`, { headers });
      await once(ws, "open");
      ws.send(JSON.stringify({ id: "laptop" }));
      return ws;
    };
    const relayed = await connect({ forwarded: "for=203.0.113.9" });
    const [code, reason] = (await once(relayed, "close")) as [number, Buffer];
    assert.equal(code, 1008);
    assert.match(reason.toString(), /^unauthorized: this server has no client key configured, so it admits only connections from its own machine/);
    const local = await connect({});
    const [reply] = (await once(local, "message")) as [Buffer];
    assert.deepEqual(JSON.parse(reply.toString()), { id: "laptop" });
    local.close();
  } finally {
    await gw.stop();
  }
});

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import WebSocket from "ws";
import type { SimServer } from "../sim/index.js";
import { ADMIN_KEY, simulators, startFlotilla, waitFor, type Flotilla } from "./harness.js";

interface Message {
  type: string;
  seq?: number;
  [key: string]: unknown;
}

const sims = simulators();
let gw: Flotilla;
let a: SimServer;
let aName: string;

/** Reads a server-sent event stream into messages as they arrive. */
async function sse(path: string): Promise<{ messages: Message[]; close(): void }> {
  const abort = new AbortController();
  const res = await fetch(gw.url + path, { headers: { authorization: `Bearer ${ADMIN_KEY}` }, signal: abort.signal });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-type"), "text/event-stream");
  const messages: Message[] = [];
  void (async () => {
    let buffered = "";
    const decoder = new TextDecoder();
    try {
      for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
        buffered += decoder.decode(chunk, { stream: true });
        let end: number;
        while ((end = buffered.indexOf("\n\n")) >= 0) {
          const block = buffered.slice(0, end);
          buffered = buffered.slice(end + 2);
          const type = /^event: (.+)$/m.exec(block)?.[1];
          const data = /^data: (.+)$/m.exec(block)?.[1];
          if (type && data) messages.push({ ...(JSON.parse(data) as object), type });
        }
      }
    } catch {
      // aborted by close()
    }
  })();
  return { messages, close: () => abort.abort() };
}

function socket(headers: Record<string, string>, query = ""): Promise<{ ws: WebSocket; messages: Message[] }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${gw.url.replace("http", "ws")}/ws${query}`, { headers });
    const messages: Message[] = [];
    ws.on("message", (data) => messages.push(JSON.parse(String(data)) as Message));
    ws.once("open", () => resolve({ ws, messages }));
    ws.once("unexpected-response", (_req, res) => reject(Object.assign(new Error(`refused: ${res.statusCode}`), { status: res.statusCode })));
    ws.once("error", reject);
  });
}

const increasing = (messages: Message[]) => messages.filter((m) => m.seq !== undefined).every((m, i, all) => i === 0 || (m.seq as number) > (all[i - 1].seq as number));

describe("live state: snapshot, server-sent events and /ws (seeds 000 and 003)", () => {
  before(async () => {
    a = await sims.start({ kind: "ollama", models: ["m:latest"], loaded: ["m:latest"], tokenIntervalMs: 60, latencyMs: 100 });
    gw = await startFlotilla({ servers: [`${a.url},ollama`] });
    aName = ((await (await gw.admin("/api/v1/nodes")).json()) as { nodes: Array<{ id: string }> }).nodes[0].id;
  });
  after(async () => {
    await gw.stop();
    await sims.closeAll();
  });

  test("the snapshot holds nodes, models, requests, queue and transfers", async () => {
    const state = (await (await gw.admin("/api/state")).json()) as { nodes: Array<{ id: string; status: string }>; models: Array<{ name: string }>; requests: unknown[]; queued: number; transfers: unknown[]; mode: string };
    assert.deepEqual(state.nodes.map((n) => [n.id, n.status]), [[aName, "active"]]);
    assert.deepEqual(state.models.map((m) => m.name), ["m:latest"]);
    assert.deepEqual([state.requests, state.queued, state.transfers, state.mode], [[], 0, [], "distributed"]);
    assert.equal((await fetch(`${gw.url}/api/state`)).status, 401);
  });

  test("the stream sends the snapshot, then node changes, events and transfer progress, in order", async () => {
    const stream = await sse("/api/state/stream");
    await waitFor("snapshot", () => stream.messages[0]?.type === "snapshot");
    await gw.admin(`/api/v1/nodes/${aName}/drain`, { method: "POST" });
    await gw.admin(`/api/v1/nodes/${aName}/undrain`, { method: "POST" });
    const started = (await (await gw.admin("/api/v1/models/live:latest/download", { method: "POST", body: JSON.stringify({ node: aName }) })).json()) as { id: string };
    const transfers = await waitFor("the transfer's end", () => {
      const seen = stream.messages.filter((m) => m.type === "transfer").map((m) => m.transfer as { id: string; status: string; percent: number });
      return seen.at(-1)?.status === "completed" && seen;
    });
    stream.close();
    assert.ok(transfers.every((t) => t.id === started.id));
    assert.ok(transfers.length >= 2, "progress before the end");
    assert.ok(transfers.every((t, i) => i === 0 || t.percent >= transfers[i - 1].percent), "progress never goes back");
    const kinds = stream.messages.filter((m) => m.type === "event").map((m) => (m.event as { kind: string }).kind);
    assert.deepEqual(kinds.slice(0, 2), ["node_drained", "node_undrained"]);
    const drainedNode = stream.messages.find((m) => m.type === "node" && (m.node as { drained: boolean }).drained);
    assert.ok(drainedNode, "the node's change came too");
    assert.ok(increasing(stream.messages), "numbered in order");
    assert.ok(!stream.messages.some((m) => m.type === "request"), "request status is for /ws");
  });

  test("/ws sends the snapshot, then request status and the same changes; a caller without a key is refused", async () => {
    const { ws, messages } = await socket({ authorization: `Bearer ${ADMIN_KEY}` });
    await waitFor("snapshot", () => messages[0]?.type === "snapshot");
    const answer = await gw.admin("/api/generate", { method: "POST", body: JSON.stringify({ model: "m", prompt: "hi", stream: false }) });
    const requestId = answer.headers.get("x-request-id");
    await answer.arrayBuffer();
    const status = await waitFor("request status", () => {
      const seen = messages.filter((m) => m.type === "request" && (m.request as { id: string }).id === requestId).map((m) => m.status);
      return seen.length === 2 && seen;
    });
    assert.deepEqual(status, ["started", "finished"]);
    await gw.admin(`/api/v1/nodes/${aName}/drain`, { method: "POST" });
    await waitFor("drain event", () => messages.some((m) => m.type === "event" && (m.event as { kind: string }).kind === "node_drained"));
    await gw.admin(`/api/v1/nodes/${aName}/undrain`, { method: "POST" });
    assert.ok(increasing(messages));
    ws.close();

    await assert.rejects(socket({}), (err: Error & { status?: number }) => err.status === 401);
    await assert.rejects(socket({ authorization: "Bearer flt_wrong_key_000000" }), (err: Error & { status?: number }) => err.status === 401);
    const byQuery = await socket({}, `?key=${ADMIN_KEY}`);
    await waitFor("snapshot by ?key=", () => byQuery.messages[0]?.type === "snapshot");
    byQuery.ws.close();
  });

  test("/ws, like every route, is refused to pages on another origin: a session's cookie is used only from the gateway's own pages", async () => {
    const setup = await fetch(`${gw.url}/api/auth/setup`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ username: "root", password: "correct horse battery" }) });
    const cookie = (setup.headers.get("set-cookie") ?? "").split(";")[0];
    assert.match(cookie, /=/);
    const own = await socket({ cookie, origin: gw.url });
    await waitFor("snapshot by session", () => own.messages[0]?.type === "snapshot");
    own.ws.close();
    await assert.rejects(socket({ cookie, origin: "https://evil.example" }), (err: Error & { status?: number }) => err.status === 403);
    await assert.rejects(socket({ cookie, origin: "null" }), (err: Error & { status?: number }) => err.status === 403);
    await assert.rejects(socket({ authorization: `Bearer ${ADMIN_KEY}`, origin: "https://evil.example" }), (err: Error & { status?: number }) => err.status === 403);
    // A client that is no browser sends no Origin.
    const keyed = await socket({ authorization: `Bearer ${ADMIN_KEY}` });
    await waitFor("snapshot by key", () => keyed.messages[0]?.type === "snapshot");
    keyed.ws.close();
  });

  test("/state is a page anyone can load; it asks for a key before it shows anything", async () => {
    const res = await fetch(`${gw.url}/state`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /^text\/html/);
    const html = await res.text();
    assert.match(html, /<input id="key" type="password"/);
    assert.match(html, /\/api\/state\/stream/);
    assert.doesNotMatch(html, new RegExp(aName), "no fleet data in the page itself");
  });
});

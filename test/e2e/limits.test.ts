import assert from "node:assert/strict";
import { connect, type Socket } from "node:net";
import { after, before, describe, test } from "node:test";
import { request } from "undici";
import { startSim, type SimServer } from "../sim/index.js";
import { ADMIN_KEY, startFlotilla, type Flotilla } from "./harness.js";

const KIB = 1024;
const HEADERS_TIMEOUT_MS = 1000;
const BODY_TIMEOUT_MS = 1500;

/** A raw socket to the gateway, to send what no HTTP client would. */
function rawSocket(url: string): Promise<Socket> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => resolve(socket));
    socket.once("error", reject);
  });
}

/** Everything the gateway writes on a socket until it closes it, and when it did. */
function untilClosed(socket: Socket): Promise<{ text: string; at: number }> {
  let text = "";
  socket.on("data", (d: Buffer) => (text += d.toString()));
  return new Promise((resolve) => socket.once("close", () => resolve({ text, at: performance.now() })));
}

describe("request limits: body size by route, header size, slow clients, silent streams", () => {
  let upstream: SimServer;
  let slow: SimServer;
  let gw: Flotilla;

  before(async () => {
    upstream = await startSim({ kind: "ollama", models: ["m:latest"], loaded: ["m:latest"] });
    // Its answer streams a token every 3 s: an idle gap over the gateway's limit below.
    slow = await startSim({ kind: "ollama", models: ["slow:latest"], loaded: ["slow:latest"], tokenIntervalMs: 3000 });
    gw = await startFlotilla({
      servers: [`${upstream.url},ollama`, `${slow.url},ollama`],
      env: {
        FLOTILLA_LIMITS__INFERENCE_BODY_BYTES: String(256 * KIB),
        FLOTILLA_LIMITS__HEADERS_TIMEOUT_MS: String(HEADERS_TIMEOUT_MS),
        FLOTILLA_LIMITS__STREAM_IDLE_TIMEOUT_MS: "500",
        FLOTILLA_LIMITS__BODY_TIMEOUT_MS: String(BODY_TIMEOUT_MS),
      },
    });
  });
  after(async () => {
    await gw?.stop();
    await Promise.all([upstream?.close(), slow?.close()]);
  });

  const post = (path: string, body: string, headers: Record<string, string> = {}) =>
    request(gw.url + path, { method: "POST", body, headers: { authorization: `Bearer ${ADMIN_KEY}`, "content-type": "application/json", ...headers } });
  const chat = (content: string) => JSON.stringify({ model: "m", messages: [{ role: "user", content }] });

  test("a JSON route takes 1 MB and an inference route its own limit; over either is a 413 in the surface's shape", async () => {
    const admin = await post("/admin/servers", JSON.stringify({ name: "big", url: "http://127.0.0.1:9", api_key: "k".repeat(1100 * KIB) }));
    assert.equal(admin.statusCode, 413);
    const a = (await admin.body.json()) as { error: string; code: string };
    assert.equal(a.code, "payload_too_large");
    assert.match(a.error, /over 1048576 bytes.*limits\.json_body_bytes/);

    const fits = await post("/v1/chat/completions", chat("x".repeat(200 * KIB)));
    assert.equal(fits.statusCode, 200);
    await fits.body.dump();

    const over = await post("/v1/chat/completions", chat("x".repeat(300 * KIB)));
    assert.equal(over.statusCode, 413);
    const o = (await over.body.json()) as { error: { code: string; message: string; request_id: string } };
    assert.equal(o.error.code, "payload_too_large");
    assert.match(o.error.message, /limits\.inference_body_bytes/);
    assert.equal(o.error.request_id, over.headers["x-request-id"]);
  });

  test("a body sent without Content-Length is counted as it comes: the 413 arrives before the body ends", async () => {
    // A raw socket, so the body can stop short of its end: the answer must not wait for it.
    const socket = await rawSocket(gw.url);
    socket.on("error", () => undefined);
    const closed = untilClosed(socket);
    socket.write(`POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${ADMIN_KEY}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n`);
    const chunk = (data: string) => socket.write(`${Buffer.byteLength(data).toString(16)}\r\n${data}\r\n`);
    chunk('{"model":"m","messages":[{"role":"user","content":"');
    for (let i = 0; i < 30; i++) chunk("x".repeat(10 * KIB));
    let answer = "";
    socket.on("data", (d: Buffer) => (answer += d.toString()));
    const started = performance.now();
    while (!answer.includes("\r\n\r\n") && performance.now() - started < 5000) await new Promise((r) => setTimeout(r, 20));
    assert.match(answer, /^HTTP\/1\.1 413 /);
    // The rest is still read, so the connection stays open: closing it with bytes unread would reset it, losing the answer.
    assert.doesNotMatch(answer, /\r\nconnection: close\r\n/i);
    socket.destroy();
    await closed;
  });

  test("headers over the limit are a 431 in Flotilla's error shape", async () => {
    const res = await request(`${gw.url}/healthz`, { headers: { "x-padding": "p".repeat(20 * KIB) } });
    assert.equal(res.statusCode, 431);
    const body = (await res.body.json()) as { code: string; request_id: string };
    assert.equal(body.code, "header_too_large");
    assert.equal(body.request_id, res.headers["x-request-id"]);
  });

  test("headers over the limit on /v1 are a 431 in OpenAI's shape", async () => {
    const res = await request(`${gw.url}/v1/models`, { headers: { "x-padding": "p".repeat(20 * KIB) } });
    assert.equal(res.statusCode, 431);
    const body = (await res.body.json()) as { error: { code: string; type: string; request_id: string } };
    assert.deepEqual([body.error.code, body.error.type], ["header_too_large", "invalid_request_error"]);
    assert.equal(body.error.request_id, res.headers["x-request-id"]);
  });

  test("bodies trickled in a byte at a time are cut off after body_timeout_ms with a 408 in the surface's shape", async () => {
    const trickled = async (path: string) => {
      const socket = await rawSocket(gw.url);
      const closed = untilClosed(socket);
      const started = performance.now();
      const body = chat("hello");
      socket.write(`POST ${path} HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${ADMIN_KEY}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`);
      let sent = 0;
      const trickle = setInterval(() => socket.writable && sent < body.length - 1 && socket.write(body[sent++]), 100);
      const { text, at } = await closed;
      clearInterval(trickle);
      assert.match(text, /^HTTP\/1\.1 408 /, path);
      assert.ok(at - started < BODY_TIMEOUT_MS + 2500, `${path} closed after ${Math.round(at - started)} ms`);
      return text.slice(text.indexOf("\r\n\r\n") + 4);
    };
    const [openai, ollama] = await Promise.all([trickled("/v1/chat/completions"), trickled("/api/chat")]);
    assert.match(JSON.parse(openai).error.message, /did not arrive within 1500 ms \(limits\.body_timeout_ms\)/);
    assert.equal(JSON.parse(ollama).code, "request_timeout");
  });

  test("a client trickling its headers is cut off after headers_timeout_ms with a 408", async () => {
    const socket = await rawSocket(gw.url);
    const closed = untilClosed(socket);
    const started = performance.now();
    socket.write("GET /healthz HTTP/1.1\r\nHost: localhost\r\n");
    const trickle = setInterval(() => socket.writable && socket.write("x"), 100);
    const { text, at } = await closed;
    clearInterval(trickle);
    assert.match(text, /^HTTP\/1\.1 408 /);
    assert.match(text, /"code":"request_timeout"/);
    assert.ok(at - started < HEADERS_TIMEOUT_MS + 2500, `closed after ${Math.round(at - started)} ms`);
  });

  test("slowloris: hundreds of trickling sockets do not keep other clients waiting", async () => {
    const sockets = await Promise.all(Array.from({ length: 300 }, () => rawSocket(gw.url)));
    const closed = sockets.map((s) => untilClosed(s));
    for (const s of sockets) s.write("GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Slow: ");
    const trickle = setInterval(() => sockets.forEach((s) => s.writable && s.write("a")), 50);
    try {
      const waits: number[] = [];
      for (let i = 0; i < 40; i++) {
        const started = performance.now();
        const res = await request(`${gw.url}/v1/models`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
        assert.equal(res.statusCode, 200);
        await res.body.dump();
        waits.push(performance.now() - started);
      }
      waits.sort((a, b) => a - b);
      assert.ok(waits[waits.length - 1] < 1000, `the slowest of 40 requests waited ${Math.round(waits[waits.length - 1])} ms`);
      const ends = await Promise.all(closed);
      assert.ok(ends.every((e) => /^HTTP\/1\.1 408 /.test(e.text)), "every trickling socket was answered 408 and closed");
    } finally {
      clearInterval(trickle);
      for (const s of sockets) s.destroy();
    }
  });

  test("a stream whose server goes silent for stream_idle_timeout_ms ends with an error line", async () => {
    const started = performance.now();
    const res = await post("/api/chat", JSON.stringify({ model: "slow", messages: [{ role: "user", content: "hi" }] }));
    assert.equal(res.statusCode, 200);
    const lines = (await res.body.text()).trim().split("\n").map((l) => JSON.parse(l) as { error?: string; done?: boolean });
    const elapsed = performance.now() - started;
    assert.ok(elapsed < 2500, `ended after ${Math.round(elapsed)} ms (the whole answer takes 24 s)`);
    assert.match(lines[lines.length - 1].error ?? "", /stopped mid-answer/);
  });
});

import assert from "node:assert/strict";
import type { IncomingMessage, ServerResponse } from "node:http";
import { after, before, describe, test } from "node:test";
import OpenAI from "openai";
import { startTestS3, TEST_S3_KEYS, type TestS3 } from "../../src/media/test-s3rver.js";
import { startSim, type SimServer } from "../sim/index.js";
import { startFlotilla, userKey, type Flotilla } from "./harness.js";
import { startReceiver, type Receiver } from "./receiver.js";

// Seed 002's Media API with Jan's shapes, on a real gateway: the disk store, and S3 (s3rver on loopback).

/** A 1×1 PNG. */
const PNG = Buffer.from("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==", "base64");
const dataUrl = (bytes: Buffer, type = "image/png") => `data:${type};base64,${bytes.toString("base64")}`;
const MAX_BYTES = 4096;

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** A caller with a key of their own: `call(method, path, body)` answers status and JSON. */
async function caller(gw: Flotilla, name: string) {
  const key = await userKey(gw, `${name}-${Math.random().toString(36).slice(2, 8)}`);
  const call = async (method: string, path: string, body?: unknown): Promise<{ status: number; body: Json }> => {
    const res = await fetch(gw.url + path, { method, headers: { authorization: `Bearer ${key}`, "content-type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });
    return { status: res.status, body: (await res.json()) as Json };
  };
  const upload = (bytes: Buffer, type = "image/png") => call("POST", "/v1/media/upload", { source: { type: "data_url", data_url: dataUrl(bytes, type) } });
  return { key, call, upload };
}

async function fetchBytes(url: string, init?: RequestInit): Promise<{ status: number; type: string | null; bytes: Buffer }> {
  const res = await fetch(url, init);
  return { status: res.status, type: res.headers.get("content-type"), bytes: Buffer.from(await res.arrayBuffer()) };
}

/** The cases every store passes: upload → get → resolve → the URL serves the bytes → delete → 404; a presigned upload. */
function lifecycle(gateway: () => Flotilla) {
  test("an upload from a data URL is got, resolved to a URL serving the same bytes, deleted, and then not found", async () => {
    const alice = await caller(gateway(), "alice");
    const up = await alice.upload(PNG);
    assert.equal(up.status, 200, JSON.stringify(up.body));
    assert.match(up.body.id, /^jan_[0-9a-z]{26}$/);
    assert.deepEqual([up.body.mime, up.body.bytes, up.body.deduped], ["image/png", PNG.length, false]);
    assert.deepEqual((await fetchBytes(up.body.presigned_url)).bytes, PNG);

    const again = await alice.upload(PNG);
    assert.deepEqual([again.body.id, again.body.deduped], [up.body.id, true], "the same bytes again are the same media");

    const got = await alice.call("GET", `/v1/media/${up.body.id}`);
    assert.equal(got.status, 200);
    assert.deepEqual([got.body.id, got.body.mime, got.body.bytes], [up.body.id, "image/png", PNG.length]);
    assert.ok(Date.parse(got.body.expires_at) > Date.now() && !Number.isNaN(Date.parse(got.body.created_at)));

    const resolved = await alice.call("POST", "/v1/media/resolve", { ids: [up.body.id] });
    assert.equal(resolved.status, 200);
    assert.equal(resolved.body.media[0].id, up.body.id);
    const served = await fetchBytes(resolved.body.media[0].presigned_url);
    assert.deepEqual([served.status, served.type, served.bytes], [200, "image/png", PNG]);
    const payload = await alice.call("POST", "/v1/media/resolve", { payload: { image: `data:image/png;${up.body.id}` } });
    assert.match(payload.body.payload.image, /^https?:\/\//);

    const deleted = await alice.call("DELETE", `/v1/media/${up.body.id}`);
    assert.deepEqual([deleted.status, deleted.body], [200, { id: up.body.id, object: "media", deleted: true }]);
    assert.equal((await alice.call("GET", `/v1/media/${up.body.id}`)).status, 404);
    assert.equal((await alice.call("DELETE", `/v1/media/${up.body.id}`)).status, 404);
    assert.notEqual((await fetchBytes(resolved.body.media[0].presigned_url)).status, 200, "its bytes are gone too");
  });

  test("a presigned upload: the media exists once its bytes are PUT to the signed URL", async () => {
    const alice = await caller(gateway(), "alice");
    const prepared = await alice.call("POST", "/v1/media/upload-presigned", { content_type: "image/png" });
    assert.equal(prepared.status, 200, JSON.stringify(prepared.body));
    assert.equal(prepared.body.jan_id, prepared.body.id);
    assert.equal(prepared.body.presigned_url, prepared.body.upload_url);
    assert.ok(prepared.body.expires_in > 0 && prepared.body.expires_in <= 300);
    assert.equal((await alice.call("GET", `/v1/media/${prepared.body.id}`)).status, 404, "nothing uploaded yet");
    const put = await fetch(prepared.body.upload_url, { method: "PUT", body: PNG, headers: { "content-type": "image/png" } });
    assert.equal(put.status, 200);
    const got = await alice.call("GET", `/v1/media/${prepared.body.id}`);
    assert.deepEqual([got.status, got.body.mime, got.body.bytes], [200, "image/png", PNG.length]);
    assert.deepEqual((await fetchBytes(got.body.presigned_url)).bytes, PNG);
  });

  test("a presigned upload of something that is not an image is refused, and no media comes of it", async () => {
    const alice = await caller(gateway(), "alice");
    const prepared = await alice.call("POST", "/v1/media/prepare-upload", { mime_type: "image/png" });
    const put = await fetch(prepared.body.upload_url, { method: "PUT", body: "plain text, named cat.png", headers: { "content-type": "image/png" } });
    const got = await alice.call("GET", `/v1/media/${prepared.body.id}`);
    assert.ok(put.status === 400 || got.status === 400, `the PUT (${put.status}) or the first read (${got.status}) refuses it`);
    assert.equal((await alice.call("GET", `/v1/media/${prepared.body.id}`)).status, 404);
  });

  test("another user's media is not found: not got, resolved, deleted, nor sent to a model", async () => {
    const alice = await caller(gateway(), "alice");
    const mallory = await caller(gateway(), "mallory");
    const { id } = (await alice.upload(PNG)).body;
    assert.equal((await mallory.call("GET", `/v1/media/${id}`)).status, 404);
    assert.equal((await mallory.call("POST", "/v1/media/resolve", { ids: [id] })).status, 404);
    assert.equal((await mallory.call("DELETE", `/v1/media/${id}`)).status, 404);
    assert.deepEqual((await mallory.call("POST", "/v1/media/bulk-delete", { ids: [id] })).body, { deleted: [], not_found: [id] });
    const chat = await mallory.call("POST", "/v1/chat/completions", { model: "m", messages: [{ role: "user", content: [{ type: "image_url", image_url: { url: id } }] }] });
    assert.equal(chat.status, 404);
    assert.equal((await alice.call("GET", `/v1/media/${id}`)).status, 200, "still alice's");
    assert.deepEqual((await alice.call("POST", "/v1/media/bulk-delete", { ids: [id, "jan_unknown"] })).body, { deleted: [id], not_found: ["jan_unknown"] });
  });
}

describe("media on the disk store", () => {
  let sim: SimServer;
  /** An image server at 127.0.0.1 (refused: loopback) and one at 127.0.0.2 (loopback too, but the operator allows it). */
  let images: Receiver;
  let allowedImages: Receiver;
  let gw: Flotilla;

  before(async () => {
    sim = await startSim({ kind: "ollama", models: ["m:latest"], loaded: ["m:latest"] });
    const serveCat = (req: IncomingMessage, res: ServerResponse) => (req.url === "/cat.png" ? res.writeHead(200, { "content-type": "image/png" }).end(PNG) : res.writeHead(404).end());
    [images, allowedImages] = await Promise.all([startReceiver("127.0.0.1", serveCat), startReceiver("127.0.0.2", serveCat)]);
    gw = await startFlotilla({ servers: [`${sim.url},ollama`], yaml: `outbound:\n  allow: ["127.0.0.2"]\nmedia:\n  max_bytes: ${MAX_BYTES}\n` });
  });
  after(async () => {
    await gw?.stop();
    await Promise.all([sim?.close(), images?.close(), allowedImages?.close()]);
  });

  lifecycle(() => gw);

  test("a tampered or forged signed URL is refused (an expired one: signing's own test)", async () => {
    const alice = await caller(gw, "alice");
    const { presigned_url: url } = (await alice.upload(PNG)).body;
    const extended = new URL(url);
    extended.searchParams.set("expires", String(Number(extended.searchParams.get("expires")) + 3600));
    const refused = await fetch(extended);
    assert.equal(refused.status, 403);
    assert.match(((await refused.json()) as Json).error.message, /signature does not match/);
    const forged = new URL(url);
    forged.searchParams.set("signature", "0".repeat(64));
    assert.equal((await fetch(forged)).status, 403);
    const prepared = await alice.call("POST", "/v1/media/upload-presigned", { content_type: "image/png" });
    const elsewhere = new URL(url);
    elsewhere.pathname = `/v1/media/${prepared.body.id}/content`;
    assert.equal((await fetch(elsewhere, { method: "PUT", body: PNG })).status, 403, "a signature is for one media and one method");
    assert.equal((await fetch(url)).status, 200, "the URL as given still works");
  });

  test("oversized uploads are a 413 and files that are not images a 400, whatever their name or declared type", async () => {
    const alice = await caller(gw, "alice");
    const big = Buffer.concat([PNG, Buffer.alloc(MAX_BYTES)]);
    const tooBig = await alice.upload(big);
    assert.deepEqual([tooBig.status, tooBig.body.error.code], [413, "payload_too_large"]);
    const text = await alice.call("POST", "/v1/media/upload", { source: { type: "data_url", data_url: dataUrl(Buffer.from("hello, I am text")) }, filename: "cat.png" });
    assert.equal(text.status, 400);
    assert.match(text.body.error.message, /unsupported media type/);
    const prepared = await alice.call("POST", "/v1/media/upload-presigned", { content_type: "image/png" });
    assert.equal((await fetch(prepared.body.upload_url, { method: "PUT", body: big })).status, 413);
    assert.equal((await alice.call("POST", "/v1/media/upload-presigned", { content_type: "text/plain" })).status, 400);
  });

  test("an upload from a loopback URL is refused, and taken where the operator allows that address", async () => {
    const alice = await caller(gw, "alice");
    const refused = await alice.call("POST", "/v1/media/upload", { source: { type: "remote_url", url: images.url.replace("/hook", "/cat.png") } });
    assert.equal(refused.status, 400);
    assert.match(refused.body.error.message, /refused: .*loopback/);
    assert.equal(images.received.length, 0, "nothing was fetched");
    const taken = await alice.call("POST", "/v1/media/upload", { source: { type: "remote_url", url: allowedImages.url.replace("/hook", "/cat.png") } });
    assert.deepEqual([taken.status, taken.body.mime, taken.body.bytes], [200, "image/png", PNG.length]);
  });

  test("a chat completion's jan_* image reaches the model as base64 data", async () => {
    const alice = await caller(gw, "alice");
    const { id } = (await alice.upload(PNG)).body;
    const client = new OpenAI({ apiKey: alice.key, baseURL: `${gw.url}/v1` });
    const before = sim.requests.length;
    await client.chat.completions.create({ model: "m", messages: [{ role: "user", content: [{ type: "text", text: "what is this?" }, { type: "image_url", image_url: { url: id } }] }] });
    const sent = sim.requests.slice(before).find((r) => r.path === "/api/chat")?.body as Json;
    assert.deepEqual(sent.messages[0].images, [PNG.toString("base64")]);
    assert.equal(sent.messages[0].content, "what is this?");
  });

  test("a chat completion's image link is fetched through the outbound guard and reaches the model as base64 data", async () => {
    const alice = await caller(gw, "alice");
    const ask = (url: string) => alice.call("POST", "/v1/chat/completions", { model: "m", messages: [{ role: "user", content: [{ type: "image_url", image_url: { url } }] }] });
    const refused = await ask(images.url.replace("/hook", "/cat.png"));
    assert.equal(refused.status, 400);
    assert.match(refused.body.error.message, /refused: .*loopback/);
    const before = sim.requests.length;
    assert.equal((await ask(allowedImages.url.replace("/hook", "/cat.png"))).status, 200);
    const sent = sim.requests.slice(before).find((r) => r.path === "/api/chat")?.body as Json;
    assert.deepEqual(sent.messages[0].images, [PNG.toString("base64")]);
  });
});

describe("media on the S3 store", () => {
  let s3: TestS3;
  let sim: SimServer;
  let gw: Flotilla;

  before(async () => {
    [s3, sim] = await Promise.all([startTestS3(), startSim({ kind: "ollama", models: ["m:latest"], loaded: ["m:latest"] })]);
    gw = await startFlotilla({
      servers: [`${sim.url},ollama`],
      yaml: `media:\n  store: s3\n  s3:\n    endpoint: ${s3.endpoint}\n    bucket: ${s3.bucket}\n    force_path_style: true\n`,
      env: { FLOTILLA_MEDIA__S3__ACCESS_KEY_ID: TEST_S3_KEYS.access_key_id, FLOTILLA_MEDIA__S3__SECRET_ACCESS_KEY: TEST_S3_KEYS.secret_access_key },
    });
  });
  after(async () => {
    await gw?.stop();
    await Promise.all([sim?.close(), s3?.close()]);
  });

  lifecycle(() => gw);

  test("the URLs handed out are the bucket's own presigned URLs", async () => {
    const alice = await caller(gw, "alice");
    const up = await alice.upload(PNG);
    assert.ok(up.body.presigned_url.startsWith(`${s3.endpoint}/${s3.bucket}/`), up.body.presigned_url);
    assert.match(up.body.presigned_url, /X-Amz-Signature=/);
  });
});

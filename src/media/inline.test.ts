import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import type { MediaRepo, MediaRow } from "../store/index.js";
import type { Fetcher } from "./content.js";
import { inlineChatImages } from "./inline.js";
import { MediaService } from "./service.js";
import { UrlSigner } from "./signing.js";
import { DiskMediaStore } from "./store.js";

const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 7, 7, 7]);

/** A media service over an in-memory repo and a temp disk store; links are answered by `links` (no network). */
function service(links: Record<string, Uint8Array> = {}) {
  const rows = new Map<string, MediaRow>();
  const repo: MediaRepo = {
    insert: async (row) => void rows.set(row.id, row),
    get: async (id) => rows.get(id),
    findByHash: async (owner, sha) => [...rows.values()].find((r) => r.owner === owner && r.sha256 === sha),
    markReady: async () => false,
    remove: async (id) => rows.delete(id),
  };
  const fetcher: Fetcher = {
    urlProblem: async () => undefined,
    fetch: async (url) => ({ status: links[url] ? 200 : 404, headers: new Headers(), url, body: links[url] ?? new Uint8Array() }),
  };
  const dir = mkdtempSync(join(tmpdir(), "flotilla-inline-"));
  const media = new MediaService(repo, new DiskMediaStore(dir), fetcher, new UrlSigner("a secret of the gateway, long enough"), { maxBytes: 1000, urlTtlSeconds: 60, fetchTimeoutMs: 1000 });
  return { media, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

const png64 = `data:image/png;base64,${PNG.toString("base64")}`;

test("a jan_* id the caller owns and an image link become base64 data URLs; the request's own objects are not changed", async () => {
  const { media, cleanup } = service({ "https://img.example/cat.png": PNG });
  try {
    const { row } = await media.ingest("alice", PNG, undefined, "source");
    const byId = { type: "image_url", image_url: { url: row.id, detail: "low" } };
    const messages = [{ role: "system", content: "be brief" }, { role: "user", content: [{ type: "text", text: "two cats" }, byId, { type: "image_url", image_url: "https://img.example/cat.png" }] }];
    const body: Record<string, unknown> = { model: "m", messages };
    assert.equal(await inlineChatImages(media, body, "alice"), true);
    assert.deepEqual(body.messages, [
      { role: "system", content: "be brief" },
      { role: "user", content: [{ type: "text", text: "two cats" }, { type: "image_url", image_url: { url: png64, detail: "low" } }, { type: "image_url", image_url: { url: png64 } }] },
    ]);
    assert.equal(byId.image_url.url, row.id, "the part given is left as it was");
    assert.notEqual(body.messages, messages);
  } finally {
    cleanup();
  }
});

test("a request with no ids or links is left alone, data URLs included; someone else's id is not found", async () => {
  const { media, cleanup } = service();
  try {
    const body = { model: "m", messages: [{ role: "user", content: "hi" }, { role: "user", content: [{ type: "image_url", image_url: { url: png64 } }] }] };
    const messages = body.messages;
    assert.equal(await inlineChatImages(media, body, "alice"), false);
    assert.equal(body.messages, messages);
    const { row } = await media.ingest("alice", PNG, undefined, "source");
    await assert.rejects(inlineChatImages(media, { messages: [{ role: "user", content: [{ type: "image_url", image_url: { url: row.id } }] }] }, "mallory"), (err: Error & { status?: number; param?: string }) => err.status === 404 && err.param === "messages[0].content[0].image_url");
  } finally {
    cleanup();
  }
});

test("a link that is not an image is refused", async () => {
  const { media, cleanup } = service({ "https://x.example/page": Buffer.from("<html>") });
  try {
    await assert.rejects(inlineChatImages(media, { messages: [{ role: "user", content: [{ type: "image_url", image_url: { url: "https://x.example/page" } }] }] }, "a"), /unsupported media type/);
  } finally {
    cleanup();
  }
});

import assert from "node:assert/strict";
import type { MediaRow } from "./index.js";
import { forEachBackend } from "./test-backends.js";

// Media rows (seed 002's jan_* ids): the same contract on SQLite and PostgreSQL.

const T0 = 1_700_000_000_000;

function row(id: string, owner: string, fields: Partial<MediaRow> = {}): MediaRow {
  return { id, owner, status: "ready", mime: "image/png", bytes: 10, sha256: "aa", filename: null, storage_key: `images/${id}.png`, upload_expires_at: null, created_at: T0, ...fields };
}

forEachBackend("media rows read back as written, and an owner's same bytes are found by hash only for that owner", async (store) => {
  await store.media.insert(row("jan_a", "u1", { filename: "cat.png" }));
  await store.media.insert(row("jan_b", "u2"));
  assert.deepEqual(await store.media.get("jan_a"), row("jan_a", "u1", { filename: "cat.png" }));
  assert.equal((await store.media.findByHash("u1", "aa"))?.id, "jan_a");
  assert.equal((await store.media.findByHash("u2", "aa"))?.id, "jan_b");
  assert.equal(await store.media.findByHash("u3", "aa"), undefined);
  assert.equal(await store.media.findByHash("u1", "bb"), undefined);
});

forEachBackend("a pending upload becomes ready once, with its checked type, size and hash; it is not found by hash before", async (store) => {
  await store.media.insert(row("jan_p", "u1", { status: "pending", bytes: 0, sha256: null, upload_expires_at: T0 + 300_000 }));
  assert.equal(await store.media.findByHash("u1", "cc"), undefined);
  assert.equal(await store.media.markReady("jan_p", { mime: "image/gif", bytes: 42, sha256: "cc" }), true);
  assert.equal(await store.media.markReady("jan_p", { mime: "image/png", bytes: 1, sha256: "dd" }), false, "only once");
  const ready = await store.media.get("jan_p");
  assert.deepEqual([ready?.status, ready?.mime, ready?.bytes, ready?.sha256, ready?.upload_expires_at], ["ready", "image/gif", 42, "cc", null]);
  assert.equal((await store.media.findByHash("u1", "cc"))?.id, "jan_p");
});

forEachBackend("a media row removed is gone, and removing it again says so", async (store) => {
  await store.media.insert(row("jan_r", "u1"));
  assert.equal(await store.media.remove("jan_r"), true);
  assert.equal(await store.media.get("jan_r"), undefined);
  assert.equal(await store.media.remove("jan_r"), false);
  assert.equal(await store.media.markReady("jan_r", { mime: "image/png", bytes: 1, sha256: "x" }), false);
});

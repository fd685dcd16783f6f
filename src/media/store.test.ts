import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { openS3MediaStore } from "./s3-store.js";
import { DiskMediaStore, type MediaStore } from "./store.js";
import { startTestS3, TEST_S3_KEYS, type TestS3 } from "./test-s3rver.js";

// One contract, every media store: the data dir, and an S3-compatible bucket (s3rver on loopback).

const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3, 4]);

function conformance(name: string, open: () => Promise<{ store: MediaStore; close(): Promise<void> }>): void {
  describe(`the ${name} media store`, () => {
    let store: MediaStore;
    let close: () => Promise<void>;
    before(async () => ({ store, close } = await open()));
    after(() => close());

    test("keeps bytes under a key and gives them back with their size", async () => {
      await store.put("images/jan_a.png", PNG, "image/png");
      assert.deepEqual(Buffer.from((await store.get("images/jan_a.png")) ?? []), PNG);
      assert.equal(await store.size("images/jan_a.png"), PNG.length);
    });

    test("a key written again holds the new bytes", async () => {
      await store.put("images/jan_b.png", PNG, "image/png");
      await store.put("images/jan_b.png", Buffer.from("second"), "image/png");
      assert.equal(Buffer.from((await store.get("images/jan_b.png")) ?? []).toString(), "second");
    });

    test("a missing key has no bytes and no size, and deleting it is no error", async () => {
      assert.equal(await store.get("images/jan_none.png"), undefined);
      assert.equal(await store.size("images/jan_none.png"), undefined);
      await store.delete("images/jan_none.png");
    });

    test("a deleted key is gone", async () => {
      await store.put("images/jan_c.png", PNG, "image/png");
      await store.delete("images/jan_c.png");
      assert.equal(await store.get("images/jan_c.png"), undefined);
    });

    test("a presigned GET serves the bytes as the type given, and a presigned PUT stores them (or the store has no URLs of its own)", async () => {
      await store.put("images/jan_d.png", PNG, "image/png");
      const get = await store.presign("GET", "images/jan_d.png", "image/png", 60);
      const put = await store.presign("PUT", "images/jan_e.png", "image/png", 60);
      if (store.kind === "disk") return assert.deepEqual([get, put], [undefined, undefined], "the gateway signs URLs to itself");
      const served = await fetch(String(get));
      assert.equal(served.status, 200);
      assert.equal(served.headers.get("content-type"), "image/png");
      assert.deepEqual(Buffer.from(await served.arrayBuffer()), PNG);
      assert.equal((await fetch(String(put), { method: "PUT", body: PNG })).status, 200);
      assert.deepEqual(Buffer.from((await store.get("images/jan_e.png")) ?? []), PNG);
    });
  });
}

conformance("disk", async () => {
  const dir = mkdtempSync(join(tmpdir(), "flotilla-media-"));
  return { store: new DiskMediaStore(dir), close: async () => rmSync(dir, { recursive: true, force: true }) };
});

conformance("S3", async () => {
  const s3: TestS3 = await startTestS3();
  const store = await openS3MediaStore({ endpoint: s3.endpoint, region: "us-east-1", bucket: s3.bucket, force_path_style: true, prefix: "test/", ...TEST_S3_KEYS });
  return {
    store,
    async close() {
      await store.close();
      await s3.close();
    },
  };
});

test("a disk key that would leave the media folder is refused", async () => {
  const dir = mkdtempSync(join(tmpdir(), "flotilla-media-"));
  try {
    const store: MediaStore = new DiskMediaStore(dir);
    await assert.rejects(store.put("../escape.png", PNG, "image/png"), /leaves the media folder/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

import assert from "node:assert/strict";
import { test } from "node:test";
import { fromDataUrl, imageMime, toDataUrl } from "./images.js";
import { TranslationError } from "./errors.js";

const base64Of = (bytes: number[]) => Buffer.from([...bytes, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]).toString("base64");

test("an image's type is sniffed from its magic bytes, PNG when unknown", () => {
  assert.equal(imageMime(base64Of([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])), "image/png");
  assert.equal(imageMime(base64Of([0xff, 0xd8, 0xff, 0xe0])), "image/jpeg");
  assert.equal(imageMime(base64Of([0x47, 0x49, 0x46, 0x38, 0x39, 0x61])), "image/gif");
  assert.equal(imageMime(base64Of([0x52, 0x49, 0x46, 0x46, 0x10, 0, 0, 0, 0x57, 0x45, 0x42, 0x50])), "image/webp");
  assert.equal(imageMime(base64Of([0x42, 0x4d])), "image/png");
});

test("Ollama images become data URLs and data URLs become bare base64 again", () => {
  const jpeg = base64Of([0xff, 0xd8, 0xff, 0xe0]);
  const url = toDataUrl(jpeg);
  assert.equal(url, `data:image/jpeg;base64,${jpeg}`);
  assert.equal(fromDataUrl(url, "p"), jpeg);
  assert.equal(fromDataUrl(`data:;base64,${jpeg}`, "p"), jpeg);
});

test("links and non-base64 data URLs cannot be carried to Ollama", () => {
  for (const url of ["https://x/y.png", "data:image/svg+xml,<svg/>", ""]) {
    assert.throws(() => fromDataUrl(url, "messages[2].content"), (err: unknown) => err instanceof TranslationError && err.param === "messages[2].content");
  }
});

import assert from "node:assert/strict";
import { test } from "node:test";
import { FlotillaError } from "../kernel/index.js";
import { checkImage, decodeDataUrl } from "./content.js";
import { newMediaId } from "./ids.js";
import { resolvePayload } from "./resolve.js";
import { UrlSigner } from "./signing.js";
import { sniffImage } from "./sniff.js";

const pad = (bytes: number[]) => Buffer.from([...bytes, ...new Array(24).fill(0)]);
const code = (err: unknown) => (err instanceof FlotillaError ? `${err.status} ${err.code}` : String(err));

test("an image's type is found from its magic bytes alone, and anything else is not an image", () => {
  assert.equal(sniffImage(pad([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])), "image/png");
  assert.equal(sniffImage(pad([0xff, 0xd8, 0xff, 0xe0])), "image/jpeg");
  assert.equal(sniffImage(pad([...Buffer.from("GIF89a")])), "image/gif");
  assert.equal(sniffImage(pad([...Buffer.from("RIFF"), 1, 0, 0, 0, ...Buffer.from("WEBP")])), "image/webp");
  assert.equal(sniffImage(pad([0x49, 0x49, 0x2a, 0x00])), "image/tiff");
  const bmp = pad([...Buffer.from("BM")]);
  bmp[14] = 40;
  assert.equal(sniffImage(bmp), "image/bmp");
  assert.equal(sniffImage(Buffer.from("BMW is a car, not a bitmap")), undefined, "BM alone is not a bitmap");
  assert.equal(sniffImage(Buffer.from("just text, named cat.png")), undefined);
  assert.equal(sniffImage(Buffer.from("<svg xmlns='http://www.w3.org/2000/svg'/>")), undefined);
});

test("an upload is refused when empty (400), over the limit (413) or not an image (400)", () => {
  const png = pad([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  assert.equal(checkImage(png, 1000, "p"), "image/png");
  assert.throws(() => checkImage(new Uint8Array(), 1000, "p"), (e) => code(e) === "400 invalid_request");
  assert.throws(() => checkImage(png, 10, "p"), (e) => code(e) === "413 payload_too_large");
  assert.throws(() => checkImage(Buffer.from("hello"), 1000, "p"), (e) => code(e) === "400 invalid_request" && /unsupported media type/.test((e as Error).message));
});

test("a data URL's bytes are its base64 data; a declared type is not trusted, and an oversized one is refused before decoding", () => {
  assert.deepEqual(Buffer.from(decodeDataUrl(`data:image/png;base64,${Buffer.from("abc").toString("base64")}`, 100, "p")).toString(), "abc");
  assert.throws(() => decodeDataUrl("data:image/png,abc", 100, "p"), /base64/);
  assert.throws(() => decodeDataUrl("https://x/y.png", 100, "p"), /not a data URL/);
  assert.throws(() => decodeDataUrl("data:image/png;base64,@@@", 100, "p"), /not valid base64/);
  assert.throws(() => decodeDataUrl(`data:image/png;base64,${"A".repeat(4000)}`, 100, "p"), (e) => code(e) === "413 payload_too_large");
});

test("media ids are Jan's: jan_ and 26 lowercase Crockford base32 characters, time-ordered, never the same twice", () => {
  const ids = Array.from({ length: 200 }, () => newMediaId());
  for (const id of ids) assert.match(id, /^jan_[0-9a-hjkmnp-tv-z]{26}$/);
  assert.equal(new Set(ids).size, ids.length);
  assert.ok(newMediaId(1_000) < newMediaId(2_000_000_000_000), "a later id sorts after");
});

test("a signed URL is good for its method, id and expiry only, and not after it expires", () => {
  const signer = new UrlSigner("a secret of the gateway, long enough");
  const now = 1_700_000_000_000;
  const expires = now / 1000 + 60;
  const signature = new URLSearchParams(signer.query("GET", "jan_a", expires)).get("signature") ?? "";
  assert.equal(signer.problem("GET", "jan_a", expires, signature, now), undefined);
  assert.match(String(signer.problem("PUT", "jan_a", expires, signature, now)), /does not match/);
  assert.match(String(signer.problem("GET", "jan_b", expires, signature, now)), /does not match/);
  assert.match(String(signer.problem("GET", "jan_a", expires + 1, signature, now)), /does not match/);
  assert.match(String(signer.problem("GET", "jan_a", expires, "zz", now)), /does not match/);
  assert.match(String(signer.problem("GET", "jan_a", expires, signature, now + 61_000)), /expired/);
  const other = new UrlSigner("another gateway's secret, long enough");
  assert.match(String(other.problem("GET", "jan_a", expires, signature, now)), /does not match/, "the key is the gateway's own");
});

test("a payload's data:<type>;jan_… placeholders become URLs, each id looked up once; a payload without any comes back as it was", async () => {
  const asked: string[] = [];
  const urlOf = async (id: string) => {
    asked.push(id);
    return `https://media/${id}?sig="q"`;
  };
  const payload = { messages: [{ content: "data:image/png;jan_01abc" }, { content: ["see data:image/jpeg;jan_01abc and data:image/gif;jan_02def"] }] };
  assert.deepEqual(await resolvePayload(payload, urlOf), {
    messages: [{ content: 'https://media/jan_01abc?sig="q"' }, { content: ['see https://media/jan_01abc?sig="q" and https://media/jan_02def?sig="q"'] }],
  });
  assert.deepEqual(asked, ["jan_01abc", "jan_02def"]);
  const plain = { a: 1 };
  assert.equal(await resolvePayload(plain, urlOf), plain);
});

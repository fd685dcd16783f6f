import assert from "node:assert/strict";
import { test } from "node:test";
import { isSealed, SEALED_PREFIX, SealedValueError, Sealer } from "./sealing.js";

const SECRET = "a-gateway-secret-of-at-least-32-characters";

test("a sealed value opens to what was sealed, and shows nothing of it", () => {
  const sealer = new Sealer(SECRET, "server api_key");
  for (const plain of ["sk-upstream-1234567890", "", "ünïcödé ✓"]) {
    const sealed = sealer.seal(plain);
    assert.ok(sealed.startsWith(SEALED_PREFIX) && isSealed(sealed));
    if (plain) assert.ok(!sealed.includes(plain));
    assert.equal(sealer.open(sealed), plain);
  }
});

test("sealing the same value twice gives two different texts (a random IV each time)", () => {
  const sealer = new Sealer(SECRET, "server api_key");
  assert.notEqual(sealer.seal("sk-same"), sealer.seal("sk-same"));
});

test("a value stored before sealing (no prefix) is read as it is", () => {
  assert.equal(new Sealer(SECRET, "server api_key").open("sk-plain-from-before"), "sk-plain-from-before");
  assert.equal(isSealed("sk-plain-from-before"), false);
});

test("a sealed value does not open under another secret, nor for another purpose", () => {
  const sealed = new Sealer(SECRET, "server api_key").seal("sk-upstream");
  assert.throws(() => new Sealer(`${SECRET}-other`, "server api_key").open(sealed), SealedValueError);
  assert.throws(() => new Sealer(SECRET, "webhook signing secret").open(sealed), /stored webhook signing secret cannot be opened/);
});

test("a sealed value changed at rest does not open", () => {
  const sealer = new Sealer(SECRET, "server api_key");
  const sealed = sealer.seal("sk-upstream");
  const raw = Buffer.from(sealed.slice(SEALED_PREFIX.length), "base64url");
  for (const at of [0, 12, 28, raw.length - 1]) {
    const tampered = Buffer.from(raw);
    tampered[at] ^= 1;
    assert.throws(() => sealer.open(SEALED_PREFIX + tampered.toString("base64url")), SealedValueError, `byte ${at} flipped`);
  }
  assert.throws(() => sealer.open(SEALED_PREFIX + raw.subarray(0, 20).toString("base64url")), SealedValueError, "cut short");
  assert.throws(() => sealer.open(SEALED_PREFIX), SealedValueError, "empty");
});

import assert from "node:assert/strict";
import { test } from "node:test";
import { AccessTokens, looksLikeJwt } from "./access-tokens.js";

const T0 = 1_700_000_000_000;
const tokens = new AccessTokens(Buffer.from("k".repeat(32)), 15 * 60_000);

test("an access token names its user and session until it expires", () => {
  const { token, expiresAt } = tokens.sign("usr_1", "ses_1", T0);
  assert.ok(looksLikeJwt(token));
  assert.equal(expiresAt, T0 + 15 * 60_000);
  assert.deepEqual(tokens.verify(token, T0 + 1000), { sub: "usr_1", sid: "ses_1", iat: T0 / 1000, exp: (T0 + 15 * 60_000) / 1000 });
  assert.equal(tokens.verify(token, expiresAt), undefined, "expired at its exp");
});

test("a token signed with another key, or changed in any part, is refused", () => {
  const { token } = tokens.sign("usr_1", "ses_1", T0);
  const other = new AccessTokens(Buffer.from("x".repeat(32)), 15 * 60_000);
  assert.equal(other.verify(token, T0), undefined);
  const [header, payload, mac] = token.split(".");
  const claims = JSON.parse(Buffer.from(payload, "base64url").toString()) as Record<string, unknown>;
  const forged = Buffer.from(JSON.stringify({ ...claims, sub: "usr_admin" })).toString("base64url");
  assert.equal(tokens.verify(`${header}.${forged}.${mac}`, T0), undefined);
  const none = Buffer.from(JSON.stringify({ alg: "none", typ: "JWT" })).toString("base64url");
  assert.equal(tokens.verify(`${none}.${payload}.${mac}`, T0), undefined, "the header is fixed: no alg=none");
  assert.equal(tokens.verify(`${header}.${payload}.`, T0), undefined);
  assert.equal(tokens.verify("flt_not_a_jwt", T0), undefined);
  assert.equal(looksLikeJwt("flt_abc"), false);
});

// The OIDC test provider on its own: a full authorization-code + PKCE round trip, no gateway involved.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash, createPublicKey, randomBytes, verify, type JsonWebKey } from "node:crypto";
import { signInAtProvider, startOidcProvider } from "./provider.js";

interface Discovery {
  issuer: string;
  authorization_endpoint: string;
  token_endpoint: string;
  userinfo_endpoint: string;
  jwks_uri: string;
  code_challenge_methods_supported: string[];
}

const REDIRECT_URI = "http://127.0.0.1:1/callback";

function decodeJwtPart(part: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(part, "base64url").toString("utf8")) as Record<string, unknown>;
}

test("a real authorization code flow with PKCE yields a genuine id_token for the signed-in subject", async (t) => {
  const provider = await startOidcProvider({
    redirectUris: [REDIRECT_URI],
    accounts: { alice: { email: "alice@corp.test", name: "Alice Liddell" } },
  });
  t.after(() => provider.close());
  assert.match(provider.issuer, /^http:\/\/127\.0\.0\.1:\d+$/);

  const discovery = (await (await fetch(`${provider.issuer}/.well-known/openid-configuration`)).json()) as Discovery;
  assert.equal(discovery.issuer, provider.issuer);
  assert.ok(discovery.code_challenge_methods_supported.includes("S256"));

  const state = randomBytes(16).toString("base64url");
  const nonce = randomBytes(16).toString("base64url");
  const verifier = randomBytes(32).toString("base64url");
  const challenge = createHash("sha256").update(verifier).digest("base64url");
  const authorize = new URL(discovery.authorization_endpoint);
  authorize.search = new URLSearchParams({
    response_type: "code",
    client_id: provider.clientId,
    redirect_uri: REDIRECT_URI,
    scope: "openid email profile",
    state,
    nonce,
    code_challenge: challenge,
    code_challenge_method: "S256",
  }).toString();

  const callback = await signInAtProvider(authorize.href, "alice");
  assert.equal(`${callback.origin}${callback.pathname}`, REDIRECT_URI);
  assert.equal(callback.searchParams.get("error"), null, callback.searchParams.get("error_description") ?? "");
  assert.equal(callback.searchParams.get("state"), state);
  assert.equal(callback.searchParams.get("iss"), provider.issuer);
  const code = callback.searchParams.get("code");
  assert.ok(code, "callback carries a code");

  const tokenResponse = await fetch(discovery.token_endpoint, {
    method: "POST",
    headers: {
      authorization: `Basic ${Buffer.from(`${encodeURIComponent(provider.clientId)}:${encodeURIComponent(provider.clientSecret)}`).toString("base64")}`,
      "content-type": "application/x-www-form-urlencoded",
    },
    body: new URLSearchParams({ grant_type: "authorization_code", code, redirect_uri: REDIRECT_URI, code_verifier: verifier }),
  });
  const tokens = (await tokenResponse.json()) as { id_token?: string; access_token?: string; token_type?: string; error?: string };
  assert.equal(tokenResponse.status, 200, JSON.stringify(tokens));
  assert.ok(tokens.id_token && tokens.access_token);

  const [headerPart, payloadPart, signaturePart] = tokens.id_token.split(".");
  const header = decodeJwtPart(headerPart);
  const claims = decodeJwtPart(payloadPart);
  assert.equal(claims.sub, "alice");
  assert.equal(claims.nonce, nonce);
  assert.equal(claims.aud, provider.clientId);
  assert.equal(claims.iss, provider.issuer);
  assert.ok(typeof claims.exp === "number" && claims.exp > Date.now() / 1000);
  assert.equal(claims.email, "alice@corp.test");
  assert.equal(claims.email_verified, true);
  assert.equal(claims.name, "Alice Liddell");

  // The signature checks out against the provider's published JWKS.
  assert.equal(header.alg, "RS256");
  const jwks = (await (await fetch(discovery.jwks_uri)).json()) as { keys: (JsonWebKey & { kid?: string })[] };
  const jwk = jwks.keys.find((k) => k.kid === header.kid);
  assert.ok(jwk, "id_token kid is in the JWKS");
  assert.equal(jwk.d, undefined, "JWKS publishes no private key material");
  const key = createPublicKey({ key: jwk, format: "jwk" });
  const signed = Buffer.from(`${headerPart}.${payloadPart}`);
  assert.ok(verify("sha256", signed, key, Buffer.from(signaturePart, "base64url")), "id_token signature verifies");
  assert.ok(!verify("sha256", Buffer.from(`${headerPart}.${payloadPart}x`), key, Buffer.from(signaturePart, "base64url")));

  // The access token works at userinfo; claims not given in `accounts` get defaults.
  const userinfo = (await (await fetch(discovery.userinfo_endpoint, {
    headers: { authorization: `Bearer ${tokens.access_token}` },
  })).json()) as Record<string, unknown>;
  assert.deepEqual(userinfo, { sub: "alice", email: "alice@corp.test", email_verified: true, name: "Alice Liddell", preferred_username: "alice" });

  // The code is single use, and PKCE is enforced: a second sign-in redeemed with the wrong verifier fails.
  const basic = `Basic ${Buffer.from(`${provider.clientId}:${provider.clientSecret}`).toString("base64")}`;
  const replay = await fetch(discovery.token_endpoint, {
    method: "POST",
    headers: { authorization: basic, "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ grant_type: "authorization_code", code, redirect_uri: REDIRECT_URI, code_verifier: verifier }),
  });
  assert.equal(replay.status, 400);
  assert.equal(((await replay.json()) as { error: string }).error, "invalid_grant");

  const bob = await signInAtProvider(authorize.href, "bob");
  const wrongVerifier = await fetch(discovery.token_endpoint, {
    method: "POST",
    headers: { authorization: basic, "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      grant_type: "authorization_code", code: bob.searchParams.get("code") ?? "", redirect_uri: REDIRECT_URI,
      code_verifier: randomBytes(32).toString("base64url"),
    }),
  });
  assert.equal(wrongVerifier.status, 400);
  assert.equal(((await wrongVerifier.json()) as { error: string }).error, "invalid_grant");
});

test("signInAtProvider surfaces a provider error page instead of hanging", async (t) => {
  const provider = await startOidcProvider({ redirectUris: [REDIRECT_URI] });
  t.after(() => provider.close());
  const bad = new URL(`${provider.issuer}/auth`);
  bad.search = new URLSearchParams({
    response_type: "code", client_id: provider.clientId, redirect_uri: "http://127.0.0.1:1/not-registered", scope: "openid",
  }).toString();
  await assert.rejects(signInAtProvider(bad.href, "alice"), /redirect_uri/);
});

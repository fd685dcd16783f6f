import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import OpenAI from "openai";
import { signInAtProvider, startOidcProvider, type TestProvider } from "../oidc/provider.js";
import { freePort, startWithModelM, type Flotilla } from "./harness.js";

let gw: Flotilla;
let provider: TestProvider;
let stop: () => Promise<void>;

/** `name=value` of the Set-Cookie headers of a response, by name. */
function cookies(res: Response): Map<string, string> {
  const jar = new Map<string, string>();
  for (const line of res.headers.getSetCookie()) {
    const [pair] = line.split(";");
    const eq = pair.indexOf("=");
    jar.set(pair.slice(0, eq), pair);
  }
  return jar;
}

/** A browser's login: to the gateway, to the provider (signed in as `login`), back to the callback. */
async function browserLogin(login: string, query = "?redirect_url=/done"): Promise<{ callback: URL; flowCookie: string; final: Response }> {
  const start = await fetch(`${gw.url}/auth/login${query}`, { redirect: "manual" });
  assert.equal(start.status, 302);
  const flowCookie = cookies(start).get("flotilla_oidc") as string;
  assert.match(flowCookie, /^flotilla_oidc=[\w-]{40,}$/);
  const callback = await signInAtProvider(start.headers.get("location") as string, login);
  const final = await fetch(callback, { redirect: "manual", headers: { cookie: flowCookie } });
  return { callback, flowCookie, final };
}

function fragmentTokens(res: Response): Record<string, string> {
  const location = new URL(res.headers.get("location") as string, gw.url);
  return Object.fromEntries(new URLSearchParams(location.hash.slice(1)));
}

describe("OIDC login against a real provider (authorization code + PKCE, state and nonce)", () => {
  before(async () => {
    const port = await freePort();
    provider = await startOidcProvider({
      redirectUris: [`http://127.0.0.1:${port}/auth/callback`],
      accounts: { alice: { email: "alice@example.test", name: "Alice Liddell", preferred_username: "alice" } },
    });
    ({ gw, stop } = await startWithModelM({
      args: ["--port", String(port)],
      yaml: [
        "auth:",
        "  guests: true",
        "  oidc:",
        `    issuer: ${provider.issuer}`,
        `    client_id: ${provider.clientId}`,
        `    client_secret: ${provider.clientSecret}`,
        `    redirect_uri: http://127.0.0.1:${port}/auth/callback`,
        "    allowed_redirect_origins: [http://app.example.test]",
      ].join("\n"),
    }));
  });
  after(async () => {
    await stop();
    await provider.close();
  });

  test("a new user signs in at the provider, lands back with tokens and a session, and uses a key of theirs with the OpenAI client", async () => {
    const start = await fetch(`${gw.url}/auth/login?redirect_url=/done`, { redirect: "manual" });
    const authorize = new URL(start.headers.get("location") as string);
    assert.equal(authorize.origin, new URL(provider.issuer).origin);
    assert.deepEqual([authorize.searchParams.get("code_challenge_method"), authorize.searchParams.get("response_type")], ["S256", "code"]);
    assert.ok(authorize.searchParams.get("state") && authorize.searchParams.get("nonce") && authorize.searchParams.get("code_challenge"));

    const { final } = await browserLogin("alice");
    assert.equal(final.status, 302);
    assert.match(final.headers.get("location") as string, /^\/done#access_token=/);
    const tokens = fragmentTokens(final);
    assert.deepEqual([tokens.token_type, tokens.expires_in], ["Bearer", "900"]);
    const session = cookies(final).get("flotilla_session") as string;
    assert.ok(session);

    const me = (await (await fetch(`${gw.url}/auth/me`, { headers: { authorization: `Bearer ${tokens.access_token}` } })).json()) as { username: string; email: string; name: string; roles: string[] };
    assert.deepEqual([me.username, me.email, me.name, me.roles], ["alice", "alice@example.test", "Alice Liddell", ["user"]]);
    const made = await fetch(`${gw.url}/auth/api-keys`, { method: "POST", headers: { cookie: session, "content-type": "application/json" }, body: JSON.stringify({ name: "from oidc" }) });
    assert.equal(made.status, 201);
    const { key } = (await made.json()) as { key: string };
    const answer = await new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: key }).chat.completions.create({ model: "m", messages: [{ role: "user", content: "hi" }] });
    assert.equal(answer.choices[0].message.content, "The quick brown fox jumps over lazy dogs.");

    const again = fragmentTokens((await browserLogin("alice")).final);
    const meAgain = (await (await fetch(`${gw.url}/auth/me`, { headers: { authorization: `Bearer ${again.access_token}` } })).json()) as { id: string; username: string };
    const first = (await (await fetch(`${gw.url}/auth/me`, { headers: { authorization: `Bearer ${tokens.access_token}` } })).json()) as { id: string };
    assert.deepEqual([meAgain.id, meAgain.username], [first.id, "alice"], "the second login finds the linked user");
  });

  test("a guest who logs in keeps their account: the identity is linked and the guest becomes a user", async () => {
    const guest = (await (await fetch(`${gw.url}/auth/guest-login`, { method: "POST" })).json()) as { user_id: string; access_token: string };
    const start = await fetch(`${gw.url}/auth/login`, { headers: { authorization: `Bearer ${guest.access_token}`, accept: "application/json" } });
    assert.equal(start.status, 200);
    const started = (await start.json()) as { authorization_url: string; state: string };
    assert.equal(new URL(started.authorization_url).searchParams.get("state"), started.state);
    const callback = await signInAtProvider(started.authorization_url, "bob");
    const res = await fetch(callback, { headers: { cookie: cookies(start).get("flotilla_oidc") as string } });
    assert.equal(res.status, 200, "without redirect_url the callback answers JSON");
    const body = (await res.json()) as { access_token: string; user: { id: string; role: string; username: string; email: string } };
    assert.deepEqual([body.user.id, body.user.role, body.user.username, body.user.email], [guest.user_id, "user", "bob", "bob@example.test"]);
    assert.ok(body.access_token);
  });

  test("a callback without this browser's login, with another state, or replayed is refused; foreign redirects are refused", async () => {
    const { callback, flowCookie, final } = await browserLogin("carol");
    assert.equal(final.status, 302);
    const replay = await fetch(callback, { redirect: "manual", headers: { cookie: flowCookie } });
    assert.equal(replay.status, 401, "the code is spent");
    const noCookie = await fetch(callback, { redirect: "manual" });
    assert.equal(noCookie.status, 400);
    assert.match(((await noCookie.json()) as { error: string }).error, /no login is under way/);

    const start = await fetch(`${gw.url}/auth/login`, { redirect: "manual" });
    const cb = await signInAtProvider(start.headers.get("location") as string, "carol");
    cb.searchParams.set("state", "forged");
    const forged = await fetch(cb, { redirect: "manual", headers: { cookie: cookies(start).get("flotilla_oidc") as string } });
    assert.equal(forged.status, 400);

    assert.equal((await fetch(`${gw.url}/auth/login?redirect_url=http://evil.example.test/x`, { redirect: "manual" })).status, 400);
    assert.equal((await fetch(`${gw.url}/auth/login?redirect_url=//evil.example.test/x`, { redirect: "manual" })).status, 400);
    const allowed = await fetch(`${gw.url}/auth/login?redirect_url=http://app.example.test/after`, { redirect: "manual" });
    assert.equal(allowed.status, 302);
  });
});

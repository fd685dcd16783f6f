import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import OpenAI from "openai";
import { startFlotilla, startWithModelM, type Flotilla } from "./harness.js";

let gw: Flotilla;
let stop: () => Promise<void>;

const json = (body: unknown, cookie?: string): RequestInit => ({
  method: "POST",
  headers: { "content-type": "application/json", ...(cookie ? { cookie } : {}) },
  body: JSON.stringify(body),
});

/** The `name=value` part of a Set-Cookie header, to send back. */
function cookieOf(res: Response): string {
  return (res.headers.get("set-cookie") ?? "").split(";")[0];
}

async function call(path: string, init: RequestInit = {}, auth?: { cookie?: string; key?: string }): Promise<Response> {
  const headers = new Headers(init.headers);
  if (auth?.cookie) headers.set("cookie", auth.cookie);
  if (auth?.key) headers.set("authorization", `Bearer ${auth.key}`);
  if (init.body && !headers.has("content-type")) headers.set("content-type", "application/json");
  return fetch(gw.url + path, { ...init, headers });
}

describe("accounts: setup, login sessions, users and their keys (seed 004)", () => {
  let adminCookie: string;

  before(async () => {
    ({ gw, stop } = await startWithModelM());
  });
  after(() => stop());

  test("setup creates the first admin once, signed in by an HttpOnly SameSite cookie", async () => {
    assert.equal((await call("/api/auth/me")).status, 401);
    assert.deepEqual(await (await call("/api/auth/setup")).json(), { required: true });
    const res = await fetch(gw.url + "/api/auth/setup", json({ username: "root", password: "correct horse battery", display_name: "Root" }));
    assert.equal(res.status, 201);
    const { user } = (await res.json()) as { user: { username: string; role: string; last_login_at: string | null } };
    assert.deepEqual([user.username, user.role], ["root", "admin"]);
    assert.ok(user.last_login_at);
    const setCookie = res.headers.get("set-cookie") ?? "";
    assert.match(setCookie, /^flotilla_session=fls_[\w-]{20,}; HttpOnly; SameSite=Lax; Path=\/; Max-Age=604800$/);
    adminCookie = cookieOf(res);

    const again = await fetch(gw.url + "/api/auth/setup", json({ username: "mallory", password: "another password" }));
    assert.equal(again.status, 409);
    assert.match(((await again.json()) as { error: string }).error, /setup is done/);
    assert.deepEqual(await (await call("/api/auth/setup")).json(), { required: false });

    const me = await call("/api/auth/me", {}, { cookie: adminCookie });
    assert.equal(me.status, 200);
    assert.deepEqual(await me.json().then((b) => [(b as { user: { username: string } }).user.username, (b as { via: string }).via]), ["root", "session"]);
  });

  test("a session is enough for admin routes; logout ends it", async () => {
    const login = await fetch(gw.url + "/api/auth/login", json({ username: "root", password: "correct horse battery" }));
    assert.equal(login.status, 200);
    const cookie = cookieOf(login);
    assert.equal((await call("/admin/servers", {}, { cookie })).status, 200);
    const out = await call("/api/auth/logout", { method: "POST" }, { cookie });
    assert.equal(out.status, 204);
    assert.match(out.headers.get("set-cookie") ?? "", /^flotilla_session=; .*Max-Age=0/);
    assert.equal((await call("/api/auth/me", {}, { cookie })).status, 401);
    assert.equal((await call("/api/auth/me", {}, { cookie: adminCookie })).status, 200, "other sessions go on");
  });

  test("an admin creates a user, who sees only what users may and whose key works with the OpenAI client", async () => {
    const created = await call("/api/users", { method: "POST", body: JSON.stringify({ username: "alice", password: "alice's password" }) }, { cookie: adminCookie });
    assert.equal(created.status, 201);
    const { user } = (await created.json()) as { user: { id: string; role: string } };
    assert.equal(user.role, "user");
    assert.equal((await call("/api/users", { method: "POST", body: JSON.stringify({ username: "alice" }) }, { cookie: adminCookie })).status, 409);

    const login = await fetch(gw.url + "/api/auth/login", json({ username: "alice", password: "alice's password" }));
    const aliceCookie = cookieOf(login);
    assert.equal((await call("/api/users", {}, { cookie: aliceCookie })).status, 403);
    assert.equal((await call("/admin/servers", {}, { cookie: aliceCookie })).status, 403);
    assert.equal((await call("/api/auth/me", {}, { cookie: aliceCookie })).status, 200);

    const keyRes = await call(`/api/users/${user.id}/api-key`, { method: "POST", body: JSON.stringify({ name: "laptop" }) }, { cookie: adminCookie });
    assert.equal(keyRes.status, 201);
    const key = (await keyRes.json()) as { key: string; prefix: string; name: string };
    assert.equal(key.name, "laptop");
    assert.ok(key.key.startsWith(key.prefix));
    const openai = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: key.key });
    const answer = await openai.chat.completions.create({ model: "m", messages: [{ role: "user", content: "hi" }] });
    assert.equal(answer.choices[0].message.content, "The quick brown fox jumps over lazy dogs.");
    const byKey = (await (await call("/api/auth/me", {}, { key: key.key })).json()) as { user: { username: string }; via: string; role: string };
    assert.deepEqual([byKey.user.username, byKey.via, byKey.role], ["alice", "key", "user"]);
    assert.equal((await call("/api/users", {}, { key: key.key })).status, 403);

    // Promoted, her key is an admin's at once; deleted, it stops working at once.
    const promoted = await call(`/api/users/${user.id}`, { method: "PUT", body: JSON.stringify({ role: "admin" }) }, { cookie: adminCookie });
    assert.equal(promoted.status, 200);
    assert.equal((await call("/api/users", {}, { key: key.key })).status, 200);
    assert.equal((await call(`/api/users/${user.id}`, { method: "DELETE" }, { cookie: adminCookie })).status, 204);
    assert.equal((await call("/api/auth/me", {}, { key: key.key })).status, 401);
    assert.equal((await call("/api/auth/me", {}, { cookie: aliceCookie })).status, 401);
    assert.equal((await call(`/api/users/${user.id}`, { method: "DELETE" }, { cookie: adminCookie })).status, 404);
  });

  test("an admin cannot delete or demote themselves", async () => {
    const me = (await (await call("/api/auth/me", {}, { cookie: adminCookie })).json()) as { user: { id: string } };
    assert.equal((await call(`/api/users/${me.user.id}`, { method: "DELETE" }, { cookie: adminCookie })).status, 409);
    assert.equal((await call(`/api/users/${me.user.id}`, { method: "PUT", body: JSON.stringify({ role: "user" }) }, { cookie: adminCookie })).status, 409);
  });

  test("wrong passwords are refused alike for unknown names, and an address that keeps failing for a name must wait (429)", async () => {
    const unknown = await fetch(gw.url + "/api/auth/login", json({ username: "nobody", password: "whatever" }));
    assert.equal(unknown.status, 401);
    assert.equal(((await unknown.json()) as { error: string }).error, "wrong username or password");
    // Five failures of this address at this name are free, and the sixth is answered; then it waits.
    let refused = 0;
    let blocked: Response | undefined;
    for (let i = 0; i < 10 && !blocked; i++) {
      const res = await fetch(gw.url + "/api/auth/login", json({ username: "root", password: `guess ${i}` }));
      if (res.status === 429) blocked = res;
      else if (res.status === 401) refused++;
    }
    assert.equal(refused, 6);
    assert.ok(blocked, "a 429 came");
    const right = await fetch(gw.url + "/api/auth/login", json({ username: "root", password: "correct horse battery" }));
    assert.equal(right.status, 429, "the guessing address waits even with the right password");
    assert.ok(Number(blocked.headers.get("retry-after")) >= 1);
    assert.match(((await blocked.json()) as { error: string }).error, /too many failed logins from this address/);
  });
});

describe("behind a trusted reverse proxy (trust_proxy)", () => {
  before(async () => {
    gw = await startFlotilla({ env: { FLOTILLA_TRUST_PROXY: "127.0.0.1" } });
    const setup = await fetch(gw.url + "/api/auth/setup", json({ username: "root", password: "correct horse battery" }));
    assert.equal(setup.status, 201);
  });
  after(() => gw.stop());

  const login = (username: string, password: string, from: string) =>
    fetch(gw.url + "/api/auth/login", { ...json({ username, password }), headers: { "content-type": "application/json", "x-forwarded-for": from } });

  test("failed logins are counted by the client address the proxy names: one spraying names waits after twenty", async () => {
    const fromA = [];
    for (let i = 0; i < 22; i++) fromA.push((await login(`name-${i}`, "wrong guess", "203.0.113.7")).status);
    assert.deepEqual(fromA, [...Array(21).fill(401), 429], "a name each, all from one address: past its free failures, the address waits");
    assert.equal((await login("fresh-name", "wrong guess", "198.51.100.9")).status, 401, "another client behind the same proxy does not");
  });

  test("guessing a user's password from many addresses slows their login but never locks them out", async () => {
    const guesser = [];
    for (let i = 0; i < 7; i++) guesser.push((await login("root", `guess ${i}`, "203.0.113.50")).status);
    assert.deepEqual(guesser, [...Array(6).fill(401), 429], "the address that keeps guessing waits");
    for (const from of ["192.0.2.10", "192.0.2.11"]) assert.equal((await login("root", "another guess", from)).status, 401, "others are answered, slowed");
    const started = performance.now();
    const owner = await login("root", "correct horse battery", "198.51.100.20");
    const took = performance.now() - started;
    assert.equal(owner.status, 200, "the owner, from their own address, gets in");
    assert.ok(took >= 1000, `and was slowed first (${Math.round(took)} ms)`);
    const again = performance.now();
    assert.equal((await login("root", "correct horse battery", "198.51.100.20")).status, 200);
    assert.ok(performance.now() - again < 1000, "a login that succeeded ends the slowing");
  });
});

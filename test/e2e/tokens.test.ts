import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Ollama } from "ollama";
import OpenAI from "openai";
import { startWithModelM, type Flotilla } from "./harness.js";

let gw: Flotilla;
let stop: () => Promise<void>;

interface Tokens {
  access_token: string;
  refresh_token: string;
  token_type: string;
  expires_in: number;
  expires_at: string;
}
interface Guest extends Tokens {
  user_id: string;
  username: string;
  principal_id: string;
}

async function call(path: string, init: { method?: string; body?: unknown; bearer?: string; headers?: Record<string, string> } = {}): Promise<Response> {
  const headers: Record<string, string> = { ...init.headers };
  if (init.bearer) headers.authorization = `Bearer ${init.bearer}`;
  if (init.body !== undefined) headers["content-type"] = "application/json";
  return fetch(gw.url + path, { method: init.method ?? (init.body !== undefined ? "POST" : "GET"), headers, body: init.body === undefined ? undefined : JSON.stringify(init.body) });
}

async function guestLogin(): Promise<Guest> {
  const res = await call("/auth/guest-login", { method: "POST" });
  assert.equal(res.status, 201);
  return (await res.json()) as Guest;
}

const chat = (bearer: string) => new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: bearer, maxRetries: 0 }).chat.completions.create({ model: "m", messages: [{ role: "user", content: "hi" }] });

describe("seed 002's token flow: guests, access and refresh tokens, keys and settings", () => {
  before(async () => {
    ({ gw, stop } = await startWithModelM({ env: { FLOTILLA_AUTH__GUESTS: "true" } }));
  });
  after(() => stop());

  test("a guest gets tokens without credentials, and the access token works with the OpenAI client", async () => {
    const guest = await guestLogin();
    assert.match(guest.username, /^guest-[0-9a-f]{16}$/);
    assert.deepEqual([guest.token_type, guest.expires_in, guest.principal_id], ["Bearer", 900, guest.user_id]);
    assert.match(guest.access_token, /^eyJ[\w-]+\.[\w-]+\.[\w-]+$/);
    assert.match(guest.refresh_token, /^flr_[\w-]{40,}$/);
    const answer = await chat(guest.access_token);
    assert.equal(answer.choices[0].message.content, "The quick brown fox jumps over lazy dogs.");
    const me = (await (await call("/auth/me", { bearer: guest.access_token })).json()) as { id: string; auth_method: string; roles: string[]; is_admin: boolean };
    assert.deepEqual([me.id, me.auth_method, me.roles, me.is_admin], [guest.user_id, "guest", ["guest"], false]);
    const noOidc = await call("/auth/login");
    assert.equal(noOidc.status, 404);
    assert.match(((await noOidc.json()) as { error: string }).error, /OIDC login is not configured/);
    const forged = `${guest.access_token.slice(0, -4)}AAAA`;
    assert.equal((await call("/auth/me", { bearer: forged })).status, 401);
  });

  test("a refresh token is spent when used; used again, it ends the session for both holders", async () => {
    const guest = await guestLogin();
    const first = await call("/auth/refresh-token", { body: { refresh_token: guest.refresh_token } });
    assert.equal(first.status, 200);
    const next = (await first.json()) as Tokens;
    assert.notEqual(next.refresh_token, guest.refresh_token);
    assert.ok(Date.parse(next.expires_at) > Date.now());
    // Seed 002's other ways to send it: the refresh_token cookie, and GET with a bearer.
    const byCookie = await call("/auth/refresh-token", { method: "POST", headers: { cookie: `refresh_token=${next.refresh_token}` } });
    const third = (await byCookie.json()) as Tokens;
    assert.equal(byCookie.status, 200);
    const byGet = await call("/auth/refresh-token", { bearer: third.refresh_token });
    assert.equal(byGet.status, 200);
    const fourth = (await byGet.json()) as Tokens;
    assert.equal((await call("/auth/me", { bearer: fourth.access_token })).status, 200);

    const replay = await call("/auth/refresh-token", { body: { refresh_token: guest.refresh_token } });
    assert.equal(replay.status, 401);
    assert.match(((await replay.json()) as { error: string }).error, /used already/);
    assert.equal((await call("/auth/refresh-token", { body: { refresh_token: fourth.refresh_token } })).status, 401, "the newest refresh token died with its session");
    assert.equal((await call("/auth/me", { bearer: fourth.access_token })).status, 401, "and so did the access token");
    const missing = await call("/auth/refresh-token", { body: {} });
    assert.equal(missing.status, 400);
  });

  test("revoke ends a refresh token's session; logout clears the cookies and ends what it was sent", async () => {
    const guest = await guestLogin();
    const revoked = await call("/auth/revoke", { body: { refresh_token: guest.refresh_token } });
    assert.deepEqual([revoked.status, await revoked.json()], [200, { message: "Token revoked successfully" }]);
    assert.equal((await call("/auth/me", { bearer: guest.access_token })).status, 401);
    assert.equal((await call("/auth/refresh-token", { body: { refresh_token: guest.refresh_token } })).status, 401);
    assert.equal((await call("/auth/revoke", { body: { refresh_token: "flr_unknown" } })).status, 200, "an unknown token answers alike");

    const other = await guestLogin();
    const out = await call("/auth/logout", { bearer: other.access_token });
    assert.deepEqual([out.status, await out.json()], [200, { status: "logged out" }]);
    assert.match(out.headers.get("set-cookie") ?? "", /refresh_token=; HttpOnly; SameSite=Lax; Path=\/; Max-Age=0/);
    assert.equal((await call("/auth/me", { bearer: other.access_token })).status, 401);
    assert.equal((await call("/auth/refresh-token", { body: { refresh_token: other.refresh_token } })).status, 401);
  });

  test("upgrade makes a guest permanent under the same id, keeping their settings; they can then sign in and make keys", async () => {
    const guest = await guestLogin();
    assert.equal((await call("/auth/api-keys", { bearer: guest.access_token })).status, 403, "guests have no keys");
    const prefs = await call("/v1/users/me/settings/preferences", { method: "PATCH", bearer: guest.access_token, body: { preferences: { selected_model: "m", theme: "dark" } } });
    assert.equal(prefs.status, 200);
    const upgraded = await call("/auth/upgrade", { bearer: guest.access_token, body: { username: "kept-data", email: "kd@example.test", full_name: "Kept Data", password: "a long password" } });
    assert.equal(upgraded.status, 200);
    const body = (await upgraded.json()) as { status: string; user: { id: string; role: string; username: string; email: string } };
    assert.deepEqual([body.status, body.user.id, body.user.role, body.user.username, body.user.email], ["upgraded", guest.user_id, "user", "kept-data", "kd@example.test"]);
    assert.equal((await call("/auth/upgrade", { bearer: guest.access_token, body: {} })).status, 409, "only once");

    const me = (await (await call("/v1/users/me", { bearer: guest.access_token })).json()) as { id: string; name: string; auth_method: string };
    assert.deepEqual([me.id, me.name, me.auth_method], [guest.user_id, "Kept Data", "token"]);
    const settings = (await (await call("/v1/users/me/settings", { bearer: guest.access_token })).json()) as { user_id: string; preferences: Record<string, unknown> };
    assert.equal(settings.user_id, guest.user_id);
    assert.equal(settings.preferences.theme, "dark");
    const login = await call("/api/auth/login", { body: { username: "kept-data", password: "a long password" } });
    assert.equal(login.status, 200);
    assert.equal((await call("/auth/api-keys", { bearer: guest.access_token })).status, 200);
  });

  test("settings: a group sent replaces that group, preferences merge, and bad values get a 400 in OpenAI's shape", async () => {
    const { access_token: token } = await guestLogin();
    const initial = (await (await call("/v1/users/me/settings", { bearer: token })).json()) as Record<string, Record<string, unknown>>;
    assert.deepEqual([initial.memory_config.max_user_items, initial.profile_settings.base_style, initial.enable_tools, initial.preferences.enable_search], [3, "Friendly", true, true]);
    const patched = await call("/v1/users/me/settings", {
      method: "PATCH",
      bearer: token,
      body: { memory_config: { enabled: false }, profile_settings: { nickname: "Nick", base_style: "Concise" }, enable_trace: true, preferences: { a: 1 } },
    });
    assert.equal(patched.status, 200);
    const again = await call("/v1/users/me/settings", { method: "PATCH", bearer: token, body: { preferences: { b: 2 } } });
    const after = (await again.json()) as Record<string, Record<string, unknown>> & { enable_trace: boolean };
    assert.deepEqual([after.memory_config.enabled, after.memory_config.max_user_items], [false, 3], "fields left out of a group sent take their defaults");
    assert.deepEqual([after.profile_settings.nick_name, after.profile_settings.base_style], ["Nick", "Concise"]);
    assert.deepEqual([after.preferences.a, after.preferences.b, after.enable_trace], [1, 2, true]);
    const bad = await call("/v1/users/me/settings", { method: "PATCH", bearer: token, body: { profile_settings: { base_style: "Loud" } } });
    assert.equal(bad.status, 400);
    const error = ((await bad.json()) as { error: { type: string; message: string } }).error;
    assert.equal(error.type, "invalid_request_error");
    assert.equal(((await (await call("/v1/users/me/settings", { bearer: token })).json()) as { profile_settings: { base_style: string } }).profile_settings.base_style, "Concise", "nothing stored was lost");
  });

  test("a user's API keys: shown once, listed by prefix, scoped, expiring, and revoked at once", async () => {
    const admin = (path: string, init: RequestInit = {}) => gw.admin(path, init);
    await admin("/api/users", { method: "POST", body: JSON.stringify({ username: "keyed", password: "keyed password" }) });
    const login = await call("/api/auth/login", { body: { username: "keyed", password: "keyed password" } });
    const cookie = (login.headers.get("set-cookie") ?? "").split(";")[0];
    const make = (body: unknown) => call("/auth/api-keys", { body, headers: { cookie } });

    const created = await make({ name: "laptop", daily_token_budget: 5000 });
    assert.equal(created.status, 201);
    const key = (await created.json()) as { id: string; key: string; prefix: string; scopes: string[]; status: string; expires_at: string | null; daily_token_budget: number };
    assert.ok(key.key.startsWith(key.prefix) && key.prefix.length >= 8);
    assert.deepEqual([key.scopes, key.status, key.expires_at, key.daily_token_budget], [["inference"], "active", null, 5000]);
    const listed = (await (await call("/auth/api-keys", { headers: { cookie } })).json()) as { items: Array<Record<string, unknown>> };
    assert.deepEqual(listed.items.map((k) => [k.id, k.prefix, "key" in k]), [[key.id, key.prefix, false]], "the key itself is never listed");

    assert.equal((await chat(key.key)).choices.length, 1);
    const ollama = new Ollama({ host: gw.url, headers: { "X-Ollama-Api-Key": key.key } });
    assert.ok((await ollama.list()).models.length > 0, "seed 004's X-Ollama-Api-Key header is accepted");
    const adminRoute = await call("/admin/servers", { bearer: key.key });
    assert.equal(adminRoute.status, 403);

    assert.equal((await make({ name: "root", scopes: ["admin"] })).status, 403, "a user cannot make an admin key");
    await admin("/api/users", { method: "POST", body: JSON.stringify({ username: "scopes-admin", password: "admin password", role: "admin" }) });
    const adminLogin = await call("/api/auth/login", { body: { username: "scopes-admin", password: "admin password" } });
    const adminCookie = (adminLogin.headers.get("set-cookie") ?? "").split(";")[0];
    const adminScoped = (await (await call("/auth/api-keys", { body: { name: "ops", scopes: ["admin"] }, headers: { cookie: adminCookie } })).json()) as { key: string; scopes: string[] };
    assert.deepEqual(adminScoped.scopes, ["admin"]);
    assert.equal((await call("/admin/servers", { bearer: adminScoped.key })).status, 200);
    const noInference = await call("/v1/chat/completions", { bearer: adminScoped.key, body: { model: "m", messages: [{ role: "user", content: "hi" }] } });
    assert.equal(noInference.status, 403);
    assert.match(((await noInference.json()) as { error: { message: string } }).error.message, /lacks the inference scope/);
    const inferenceOnly = (await (await call("/auth/api-keys", { body: { name: "chat" }, headers: { cookie: adminCookie } })).json()) as { key: string };
    const adminRefused = await call("/admin/servers", { bearer: inferenceOnly.key });
    assert.equal(adminRefused.status, 403, "an admin's key without the admin scope cannot administer");
    assert.match(((await adminRefused.json()) as { error: string }).error, /lacks the admin scope/);
    const adminOnly = await gw.admin("/auth/api-keys", { method: "POST", body: JSON.stringify({ name: "x" }) });
    assert.equal(adminOnly.status, 400, "the gateway's own admin key belongs to no user");

    const short = (await (await make({ name: "short", expires_in: 1 })).json()) as { key: string; expires_at: string };
    assert.ok(Math.abs(Date.parse(short.expires_at) - Date.now() - 1000) < 2000);
    assert.equal((await call("/auth/me", { bearer: short.key })).status, 200);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    assert.equal((await call("/auth/me", { bearer: short.key })).status, 401, "an expired key stops working");

    const other = await guestLogin();
    assert.equal((await call(`/auth/api-keys/${key.id}`, { method: "DELETE", bearer: other.access_token })).status, 404, "another's key is not found");
    assert.equal((await call(`/auth/api-keys/${key.id}`, { method: "DELETE", headers: { cookie } })).status, 204);
    assert.equal((await call("/auth/me", { bearer: key.key })).status, 401, "revoked at once");
    const after = (await (await call("/auth/api-keys", { headers: { cookie } })).json()) as { items: Array<{ id: string; status: string }> };
    assert.deepEqual(after.items.map((k) => [k.id, k.status]), [[key.id, "revoked"], [after.items[1].id, "expired"]]);
  });
});

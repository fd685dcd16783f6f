import assert from "node:assert/strict";
import type { SessionRow, UserRow } from "./index.js";
import { forEachBackend } from "./test-backends.js";

// Users and sessions: the same contract on SQLite and PostgreSQL.

const T0 = 1_700_000_000_000;

function user(id: string, username: string, role: UserRow["role"] = "user"): UserRow {
  return { id, username, display_name: null, password_hash: "scrypt$x", role, created_at: T0, updated_at: T0, last_login_at: null, email: null, settings: "{}" };
}

function session(id: string, userId: string, expiresAt: number): SessionRow {
  return { id, user_id: userId, token_hash: `hash_${id}`, created_at: T0, expires_at: expiresAt, kind: "cookie" };
}

forEachBackend("the first user goes in only while there is none, even when two try at once", async (store) => {
  const results = await Promise.all([store.users.insertFirst(user("u1", "alice", "admin")), store.users.insertFirst(user("u2", "bob", "admin"))]);
  assert.deepEqual(results.sort(), [false, true]);
  assert.equal(await store.users.count(), 1);
  assert.equal(await store.users.insertFirst(user("u3", "carol", "admin")), false);
});

forEachBackend("guests do not count as the first user: setup stays open until a real account exists", async (store) => {
  await store.users.insert(user("g1", "guest-1", "guest"));
  assert.equal(await store.users.hasAccount(), false);
  assert.equal(await store.users.insertFirst(user("u1", "alice", "admin")), true);
  assert.equal(await store.users.hasAccount(), true);
  assert.equal(await store.users.insertFirst(user("u2", "bob", "admin")), false);
});

forEachBackend("users are read back as stored, found by name, updated and listed oldest first", async (store) => {
  await store.users.insert(user("u1", "alice", "admin"));
  await store.users.insert({ ...user("u2", "bob"), created_at: T0 + 1, display_name: "Bob" });
  await assert.rejects(store.users.insert(user("u3", "alice")), "a username is unique");
  assert.deepEqual(await store.users.findByUsername("bob"), { ...user("u2", "bob"), created_at: T0 + 1, display_name: "Bob" });
  assert.equal(await store.users.findByUsername("nobody"), undefined);
  const updated = await store.users.update("u2", { role: "admin", last_login_at: T0 + 5 }, T0 + 9);
  assert.deepEqual([updated?.role, updated?.last_login_at, updated?.updated_at, updated?.display_name], ["admin", T0 + 5, T0 + 9, "Bob"]);
  assert.equal(await store.users.update("nope", { role: "admin" }, T0), undefined);
  assert.deepEqual((await store.users.list()).map((u) => u.username), ["alice", "bob"]);
});

forEachBackend("removing a user removes their sessions and revokes their keys", async (store) => {
  await store.users.insert(user("u1", "alice"));
  await store.users.insert(user("u2", "bob"));
  await store.sessions.insert(session("s1", "u1", T0 + 1000));
  await store.sessions.insert(session("s2", "u2", T0 + 1000));
  await store.apiKeys.insert({ id: "k1", name: "k1", prefix: "flt_x", hash: "h1", role: "user", scopes: "[]", created_at: T0, expires_at: null, last_used_at: null, revoked_at: null, user_id: "u1", daily_token_budget: null });
  assert.equal(await store.users.remove("u1"), true);
  assert.equal(await store.users.remove("u1"), false);
  assert.equal(await store.sessions.findByHash("hash_s1"), undefined);
  assert.equal((await store.sessions.findByHash("hash_s2"))?.user_id, "u2");
  const [key] = await store.apiKeys.list();
  assert.ok(key.revoked_at !== null && key.user_id === "u1");
});

forEachBackend("sessions are found by token hash, removed one by one, per user, and when expired", async (store) => {
  await store.users.insert(user("u1", "alice"));
  await store.sessions.insert(session("s1", "u1", T0 + 10));
  await store.sessions.insert(session("s2", "u1", T0 + 20));
  await store.sessions.insert(session("s3", "u1", T0 + 30));
  assert.deepEqual(await store.sessions.findByHash("hash_s2"), session("s2", "u1", T0 + 20));
  assert.equal(await store.sessions.removeExpired(T0 + 15), 1);
  await store.sessions.remove("s2");
  assert.equal(await store.sessions.findByHash("hash_s2"), undefined);
  assert.ok(await store.sessions.findByHash("hash_s3"));
  await store.sessions.removeForUser("u1");
  assert.equal(await store.sessions.findByHash("hash_s3"), undefined);
});

forEachBackend("a token session's refresh replaces its hash once, keeps the old one as spent, and ends with the session", async (store) => {
  await store.users.insert(user("u1", "alice"));
  await store.sessions.insert({ ...session("s1", "u1", T0 + 10), kind: "token", token_hash: "r1" });
  await store.sessions.insert(session("c1", "u1", T0 + 10));
  assert.equal(await store.sessions.rotate("s1", "r1", "r2", T0 + 99, T0 + 1), true);
  assert.equal(await store.sessions.rotate("s1", "r1", "r3", T0 + 99, T0 + 2), false, "the same token cannot be exchanged twice");
  assert.equal(await store.sessions.rotate("c1", "hash_c1", "x", T0 + 99, T0 + 2), false, "a cookie session is never rotated");
  assert.deepEqual(await store.sessions.get("s1"), { id: "s1", user_id: "u1", token_hash: "r2", created_at: T0, expires_at: T0 + 99, kind: "token" });
  assert.equal(await store.sessions.findSpent("r1"), "s1");
  assert.equal(await store.sessions.findSpent("r2"), undefined);
  await store.sessions.remove("s1");
  assert.equal(await store.sessions.findSpent("r1"), undefined, "spent tokens go with their session");
});

forEachBackend("OIDC identities link to one user each and go with the user; email and settings are stored", async (store) => {
  await store.users.insert({ ...user("u1", "alice"), email: "a@example.test", settings: '{"enable_trace":true}' });
  await store.users.linkIdentity({ issuer: "https://idp", subject: "sub-1", user_id: "u1", email: "a@example.test", created_at: T0 });
  await assert.rejects(store.users.linkIdentity({ issuer: "https://idp", subject: "sub-1", user_id: "u1", email: null, created_at: T0 }));
  const found = await store.users.findByIdentity("https://idp", "sub-1");
  assert.deepEqual([found?.id, found?.email, found?.settings], ["u1", "a@example.test", '{"enable_trace":true}']);
  assert.equal(await store.users.findByIdentity("https://other", "sub-1"), undefined);
  const renamed = await store.users.update("u1", { username: "alice2", settings: "{}" }, T0 + 1);
  assert.deepEqual([renamed?.username, renamed?.settings], ["alice2", "{}"]);
  await store.users.remove("u1");
  assert.equal(await store.users.findByIdentity("https://idp", "sub-1"), undefined);
});

forEachBackend("a user's keys are listed by user, read by id, and carry their budget", async (store) => {
  const key = (id: string, userId: string | null) => ({ id, name: id, prefix: "flt_x", hash: `h_${id}`, role: "user" as const, scopes: '["inference"]', created_at: T0, expires_at: null, last_used_at: null, revoked_at: null, user_id: userId, daily_token_budget: 1000 });
  await store.apiKeys.insert(key("k1", "u1"));
  await store.apiKeys.insert(key("k2", "u2"));
  await store.apiKeys.insert(key("k3", "u1"));
  assert.deepEqual((await store.apiKeys.listForUser("u1")).map((k) => k.id), ["k1", "k3"]);
  assert.equal((await store.apiKeys.get("k2"))?.daily_token_budget, 1000);
  assert.equal(await store.apiKeys.get("nope"), undefined);
});

forEachBackend("a generated secret is stored once: later callers, replicas included, get the first value", async (store, backend) => {
  assert.equal(await store.secrets.getOrCreate("signing", "first"), "first");
  const other = await backend.open();
  try {
    const values = await Promise.all([other.secrets.getOrCreate("signing", "second"), store.secrets.getOrCreate("signing", "third")]);
    assert.deepEqual(values, ["first", "first"]);
  } finally {
    await other.close();
  }
});

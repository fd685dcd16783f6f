import assert from "node:assert/strict";
import type { SessionRow, UserRow } from "./index.js";
import { forEachBackend } from "./test-backends.js";

// Users and sessions: the same contract on SQLite and PostgreSQL.

const T0 = 1_700_000_000_000;

function user(id: string, username: string, role: UserRow["role"] = "user"): UserRow {
  return { id, username, display_name: null, password_hash: "scrypt$x", role, created_at: T0, updated_at: T0, last_login_at: null };
}

function session(id: string, userId: string, expiresAt: number): SessionRow {
  return { id, user_id: userId, token_hash: `hash_${id}`, created_at: T0, expires_at: expiresAt };
}

forEachBackend("the first user goes in only while there is none, even when two try at once", async (store) => {
  const results = await Promise.all([store.users.insertFirst(user("u1", "alice", "admin")), store.users.insertFirst(user("u2", "bob", "admin"))]);
  assert.deepEqual(results.sort(), [false, true]);
  assert.equal(await store.users.count(), 1);
  assert.equal(await store.users.insertFirst(user("u3", "carol", "admin")), false);
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
  await store.apiKeys.insert({ id: "k1", name: "k1", prefix: "flt_x", hash: "h1", role: "user", scopes: "[]", created_at: T0, expires_at: null, last_used_at: null, revoked_at: null, user_id: "u1" });
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

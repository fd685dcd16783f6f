import assert from "node:assert/strict";
import type { ConversationRow, NewItemRow, Store } from "./index.js";
import { forEachBackend } from "./test-backends.js";

// Conversations, their items and branches, shares and projects: the same contract on SQLite and PostgreSQL.

const T0 = 1_700_000_000_000;

function conversation(id: string, owner: string, createdAt: number, extra: Partial<ConversationRow> = {}): ConversationRow {
  return { id, owner, title: null, project_id: null, referrer: null, metadata: "{}", next_position: 0, created_at: createdAt, updated_at: createdAt, ...extra };
}

const text = (id: string, role = "user", callId: string | null = null): NewItemRow => ({ id, type: callId ? "function_call" : "message", role: callId ? null : role, call_id: callId, body: JSON.stringify({ text: id }) });
const ids = (rows: Array<{ id: string }>) => rows.map((r) => r.id);

let copies = 0;
const copyId = () => `copy_${++copies}`;

forEachBackend("conversations list newest first a page at a time, after a cursor, by project, only the owner's", async (store) => {
  for (let i = 0; i < 5; i++) await store.conversations.insert(conversation(`c${i}`, "u1", T0 + i, { project_id: i % 2 ? "p1" : null }), []);
  // Two made in the same millisecond still page in one order.
  await store.conversations.insert(conversation("c5a", "u1", T0 + 5), []);
  await store.conversations.insert(conversation("c5b", "u1", T0 + 5), []);
  await store.conversations.insert(conversation("other", "u2", T0 + 9), []);
  const first = await store.conversations.list("u1", { limit: 3, order: "desc" });
  assert.deepEqual(ids(first), ["c5b", "c5a", "c4"]);
  const second = await store.conversations.list("u1", { limit: 3, order: "desc", after: first[2] });
  assert.deepEqual(ids(second), ["c3", "c2", "c1"]);
  assert.deepEqual(ids(await store.conversations.list("u1", { limit: 3, order: "desc", after: first[0] })), ["c5a", "c4", "c3"], "the cursor's twin comes next");
  assert.deepEqual(ids(await store.conversations.list("u1", { limit: 2, order: "asc", after: second[1] })), ["c3", "c4"]);
  assert.deepEqual(ids(await store.conversations.list("u1", { limit: 10, order: "desc", projectId: "p1" })), ["c3", "c1"]);
  assert.equal(await store.conversations.count("u1", {}), 7);
  assert.equal(await store.conversations.count("u1", { projectId: "p1" }), 2);
  assert.equal(await store.conversations.get("u1", "other"), undefined, "another owner's is not found");
});

forEachBackend("items append in order after the first ones, page by position, and a conversation not the owner's takes none", async (store) => {
  const first = await store.conversations.insert(conversation("c", "u1", T0), [text("i0"), text("i1", "assistant")]);
  assert.deepEqual(first.map((r) => r.position), [0, 1]);
  const added = await store.conversations.append("u1", "c", [text("i2"), text("i3", "assistant"), text("i4", "assistant", "call_1")], T0 + 5);
  assert.deepEqual(added?.map((r) => r.position), [2, 3, 4]);
  assert.equal((await store.conversations.get("u1", "c"))?.updated_at, T0 + 5);
  assert.equal(await store.conversations.append("u2", "c", [text("x")], T0 + 6), undefined);
  assert.deepEqual(ids(await store.conversations.items("c", { branch: "MAIN", limit: 2, order: "desc" })), ["i4", "i3"]);
  assert.deepEqual(ids(await store.conversations.items("c", { branch: "MAIN", limit: 2, order: "desc", afterPosition: 3 })), ["i2", "i1"]);
  assert.deepEqual(ids(await store.conversations.items("c", { branch: "MAIN", limit: 10, order: "asc", afterPosition: 2 })), ["i3", "i4"]);
  assert.deepEqual(ids(await store.conversations.allItems("c", "MAIN", 1)), ["i0", "i1"]);
  assert.equal((await store.conversations.itemByCallId("c", "call_1"))?.id, "i4");
  assert.equal(await store.conversations.countItems("c", "MAIN"), 5);
});

forEachBackend("appends at once each take their own positions", async (store) => {
  await store.conversations.insert(conversation("c", "u1", T0), []);
  await Promise.all(Array.from({ length: 8 }, (_, i) => store.conversations.append("u1", "c", [text(`a${i}`), text(`b${i}`)], T0 + i)));
  const rows = await store.conversations.allItems("c", "MAIN");
  assert.deepEqual(rows.map((r) => r.position), Array.from({ length: 16 }, (_, i) => i));
  for (const row of rows.filter((r) => r.id.startsWith("a"))) assert.equal(rows[row.position + 1].id, `b${row.id.slice(1)}`, "one append's items stay together");
});

forEachBackend("a fork keeps the old MAIN whole as a backup branch and leaves MAIN as asked", async (store) => {
  await store.conversations.insert(conversation("c", "u1", T0), [text("u0"), text("a0", "assistant"), text("u1"), text("a1", "assistant")]);
  // An edit of u1: MAIN keeps u0, a0 (same ids) and takes the new item; the backup is the old four.
  const backup = await store.conversations.fork("u1", "c", { from: 2, backup: "MAIN_1", copyId, insert: text("u1-edited") }, T0 + 1);
  assert.equal(backup, "MAIN_1");
  assert.deepEqual(ids(await store.conversations.allItems("c", "MAIN")), ["u0", "a0", "u1-edited"]);
  const old = await store.conversations.allItems("c", "MAIN_1");
  assert.equal(old.length, 4);
  assert.deepEqual(ids(old.slice(2)), ["u1", "a1"], "the items taken out keep their ids");
  assert.deepEqual(old.slice(0, 2).map((r) => JSON.parse(r.body)), [{ text: "u0" }, { text: "a0" }]);
  // The same backup name again is made unique; removing one item keeps those after it.
  assert.equal(await store.conversations.fork("u1", "c", { from: 1, to: 1, backup: "MAIN_1", copyId }, T0 + 2), "MAIN_1_2");
  assert.deepEqual(ids(await store.conversations.allItems("c", "MAIN")), ["u0", "u1-edited"]);
  assert.equal(await store.conversations.fork("u2", "c", { from: 0, backup: "x", copyId }, T0 + 3), undefined, "not the owner's");
  // Appends after a fork go after every position ever given.
  const [next] = (await store.conversations.append("u1", "c", [text("later")], T0 + 4)) ?? [];
  assert.ok(next.position > 3);
});

forEachBackend("conversations removed take their items and shares; only the owner's go", async (store) => {
  await store.conversations.insert(conversation("c1", "u1", T0), [text("i1")]);
  await store.conversations.insert(conversation("c2", "u1", T0), [text("i2")]);
  await store.conversations.insert(conversation("c3", "u2", T0), [text("i3")]);
  await store.shares.insert({ id: "shr_1", slug: "s1", owner: "u1", conversation_id: "c1", item_id: null, title: null, options: "{}", snapshot: "{}", view_count: 0, last_viewed_at: null, revoked_at: null, created_at: T0, updated_at: T0 });
  assert.deepEqual((await store.conversations.remove("u1", ["c1", "c3", "nope"])).sort(), ["c1"]);
  assert.equal(await store.conversations.item("c1", "i1"), undefined);
  assert.equal(await store.shares.view("s1", T0), undefined);
  assert.ok(await store.conversations.get("u2", "c3"), "another owner's stays");
  assert.deepEqual(await store.conversations.remove("u1", []), []);
  assert.deepEqual(await store.conversations.remove("u1", undefined), ["c2"]);
  assert.equal(await store.conversations.count("u1", {}), 0);
});

forEachBackend("a share is viewed by its slug and counted until it is revoked", async (store) => {
  const share = { id: "shr_a", slug: "slug_a", owner: "u1", conversation_id: "c", item_id: null, title: "t", options: "{}", snapshot: '{"items":[]}', view_count: 0, last_viewed_at: null, revoked_at: null, created_at: T0, updated_at: T0 };
  await store.shares.insert(share);
  assert.equal((await store.shares.view("slug_a", T0 + 1))?.view_count, 1);
  const seen = await store.shares.view("slug_a", T0 + 2);
  assert.deepEqual([seen?.view_count, seen?.last_viewed_at, seen?.snapshot], [2, T0 + 2, '{"items":[]}']);
  assert.equal(await store.shares.revoke("u2", "c", "shr_a", T0 + 3), false, "not another owner's to revoke");
  assert.equal(await store.shares.revoke("u1", "c", "shr_a", T0 + 3), true);
  assert.equal(await store.shares.revoke("u1", "c", "shr_a", T0 + 4), false, "revoked once");
  assert.equal(await store.shares.view("slug_a", T0 + 5), undefined);
  assert.equal((await store.shares.get("u1", "c", "shr_a"))?.revoked_at, T0 + 3);
  assert.deepEqual(ids(await store.shares.list("u1", "c")), ["shr_a"]);
});

async function project(store: Store, id: string, owner: string, createdAt: number): Promise<void> {
  await store.projects.insert({ id, owner, name: id, instruction: `be ${id}`, favorite: 0, archived_at: null, deleted_at: null, created_at: createdAt, updated_at: createdAt });
}

forEachBackend("a project soft-deleted is gone from reads and its conversations stay, out of it", async (store) => {
  for (let i = 0; i < 3; i++) await project(store, `p${i}`, "u1", T0 + i);
  await project(store, "theirs", "u2", T0);
  await store.conversations.insert(conversation("c", "u1", T0, { project_id: "p1" }), []);
  const page = await store.projects.list("u1", { limit: 2, order: "desc" });
  assert.deepEqual(ids(page), ["p2", "p1"]);
  assert.deepEqual(ids(await store.projects.list("u1", { limit: 2, order: "desc", after: page[1] })), ["p0"]);
  assert.equal((await store.projects.change("u1", "p1", { name: "renamed", favorite: 1 }, T0 + 9))?.name, "renamed");
  assert.equal(await store.projects.change("u2", "p1", { name: "x" }, T0), undefined);
  assert.equal(await store.projects.remove("u2", "p1", T0 + 10), false);
  assert.equal(await store.projects.remove("u1", "p1", T0 + 10), true);
  assert.equal(await store.projects.remove("u1", "p1", T0 + 11), false);
  assert.equal(await store.projects.get("u1", "p1"), undefined);
  assert.deepEqual(ids(await store.projects.list("u1", { limit: 10, order: "asc" })), ["p0", "p2"]);
  assert.equal(await store.projects.count("u1"), 2);
  assert.equal(await store.projects.change("u1", "p1", { name: "back?" }, T0 + 12), undefined, "a deleted project takes no change");
  const kept = await store.conversations.get("u1", "c");
  assert.equal(kept?.project_id, null);
});

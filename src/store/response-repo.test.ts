import assert from "node:assert/strict";
import type { ResponseRow, Store } from "./index.js";
import { forEachBackend } from "./test-backends.js";

// Stored responses and the kept events of a background response's stream: the same contract on SQLite and PostgreSQL.

const T0 = 1_700_000_000_000;

function row(id: string, status = "queued"): ResponseRow {
  return { id, owner: "u1", status, response: `{"status":"${status}"}`, history: "[]", request: '{"input":[]}', background: 1, task_id: null, event_count: 0, created_at: T0, updated_at: T0 };
}

const kept = async (store: Store, id: string, after = -1) => (await store.responses.events(id, after, 100)).map((e) => [e.sequence, e.event]);

forEachBackend("a background response keeps its stream's events numbered from 0 as it moves on, read back after any number", async (store) => {
  await store.responses.insert(row("r1"), ["created", "queued"]);
  assert.equal((await store.responses.get("r1"))?.event_count, 2);
  assert.equal(await store.responses.advance("r1", ["queued"], { status: "in_progress", response: "{}" }, ["in_progress"], T0 + 1), true);
  assert.equal(await store.responses.advance("r1", ["in_progress"], undefined, ["delta a", "delta b"], T0 + 2), true, "events alone, the status as it was");
  assert.equal(await store.responses.advance("r1", ["in_progress"], { status: "completed", response: '{"done":1}', history: '["h"]' }, ["completed"], T0 + 3), true);
  assert.deepEqual(await kept(store, "r1"), [[0, "created"], [1, "queued"], [2, "in_progress"], [3, "delta a"], [4, "delta b"], [5, "completed"]]);
  assert.deepEqual(await kept(store, "r1", 3), [[4, "delta b"], [5, "completed"]]);
  assert.deepEqual(await kept(store, "r1", 5), []);
  assert.deepEqual((await store.responses.events("r1", 0, 2)).map((e) => e.sequence), [1, 2], "a page at a time");
  const done = await store.responses.get("r1");
  assert.deepEqual([done?.status, done?.response, done?.history, done?.event_count, done?.updated_at], ["completed", '{"done":1}', '["h"]', 6, T0 + 3]);
});

forEachBackend("a response moved on by another (a cancel) takes no more events nor changes from its run", async (store) => {
  await store.responses.insert(row("r2", "in_progress"), ["created"]);
  assert.equal(await store.responses.advance("r2", ["queued", "in_progress"], { status: "cancelled", response: "{}" }, ["cancelled"], T0 + 1), true);
  assert.equal(await store.responses.advance("r2", ["in_progress"], undefined, ["late delta"], T0 + 2), false);
  assert.equal(await store.responses.advance("r2", ["in_progress"], { status: "completed", response: "{}" }, ["completed"], T0 + 3), false);
  assert.equal((await store.responses.get("r2"))?.status, "cancelled");
  assert.deepEqual(await kept(store, "r2"), [[0, "created"], [1, "cancelled"]]);
});

forEachBackend("of two moves at once, one wins and the stream has one end", async (store) => {
  await store.responses.insert(row("r3", "in_progress"), []);
  const [cancel, finish] = await Promise.all([
    store.responses.advance("r3", ["queued", "in_progress"], { status: "cancelled", response: "{}" }, ["cancelled"], T0 + 1),
    store.responses.advance("r3", ["in_progress"], { status: "completed", response: "{}" }, ["delta", "completed"], T0 + 1),
  ]);
  assert.equal(Number(cancel) + Number(finish), 1);
  const events = await kept(store, "r3");
  assert.deepEqual(events.at(-1)?.[1], (await store.responses.get("r3"))?.status, "the last event kept is the end that won");
  assert.deepEqual(events.map((e) => e[0]), events.map((_, i) => i));
});

forEachBackend("a response removed takes its events with it; its task is recorded", async (store) => {
  await store.responses.insert(row("r4"), ["created"]);
  await store.responses.setTask("r4", "task_1");
  assert.equal((await store.responses.get("r4"))?.task_id, "task_1");
  assert.equal(await store.responses.remove("r4"), true);
  assert.equal(await store.responses.get("r4"), undefined);
  assert.deepEqual(await kept(store, "r4"), []);
  assert.equal(await store.responses.remove("r4"), false);
  assert.equal(await store.responses.advance("r4", ["queued"], undefined, ["x"], T0), false, "a removed response takes no event");
  assert.deepEqual(await kept(store, "r4"), []);
});

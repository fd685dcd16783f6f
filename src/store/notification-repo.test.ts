import assert from "node:assert/strict";
import type { NotificationSubscriptionRow } from "./index.js";
import { forEachBackend } from "./test-backends.js";

// Notification subscriptions and the per (server, event) send lease: the same contract on SQLite and PostgreSQL.

const T0 = 1_700_000_000_000;
const COOLDOWN = 1_800_000;

function sub(id: string, owner: string, server: string, extra: Partial<NotificationSubscriptionRow> = {}): NotificationSubscriptionRow {
  return { id, owner, server, events: '["server.down"]', channel: "telegram", url: null, created_at: T0, ...extra };
}

forEachBackend("an owner's subscriptions are replaced as a whole, and found by server name or by *", async (store) => {
  const repo = store.notifications;
  await repo.replaceSubscriptions("u1", [sub("s1", "u1", "gpu-1"), sub("s2", "u1", "*", { channel: "webhook", url: "https://192.0.2.1/h", created_at: T0 + 1 })]);
  await repo.replaceSubscriptions("u2", [sub("s3", "u2", "gpu-2")]);
  assert.deepEqual((await repo.subscriptionsOf("u1")).map((s) => s.id), ["s1", "s2"]);
  assert.deepEqual((await repo.subscriptionsAbout("gpu-1")).map((s) => s.id), ["s1", "s2"]);
  assert.deepEqual((await repo.subscriptionsAbout("gpu-2")).map((s) => s.id), ["s3", "s2"]);
  await repo.replaceSubscriptions("u1", [sub("s4", "u1", "gpu-2")]);
  assert.deepEqual((await repo.subscriptionsOf("u1")).map((s) => s.id), ["s4"]);
  await repo.replaceSubscriptions("u1", []);
  assert.deepEqual(await repo.subscriptionsOf("u1"), []);
  assert.deepEqual((await repo.subscriptionsOf("u2")).map((s) => s.id), ["s3"], "another owner's are untouched");
});

forEachBackend("of two replicas claiming the same send, one wins, and none again until the cooldown has passed", async (store, backend) => {
  const other = await backend.open();
  try {
    const claims = await Promise.all([store.notifications.claimSend("gpu-1", "server.down", T0, COOLDOWN, "a"), other.notifications.claimSend("gpu-1", "server.down", T0 + 5, COOLDOWN, "b")]);
    assert.deepEqual(claims.filter(Boolean).length, 1);
    assert.equal(await store.notifications.claimSend("gpu-1", "server.up", T0 + 10, COOLDOWN, "a"), true, "another event has its own cooldown");
    assert.equal(await store.notifications.claimSend("gpu-2", "server.down", T0 + 10, COOLDOWN, "a"), true, "another server too");
    assert.equal(await other.notifications.claimSend("gpu-1", "server.down", T0 + COOLDOWN - 1, COOLDOWN, "b"), false);
    assert.equal(await other.notifications.claimSend("gpu-1", "server.down", T0 + 5 + COOLDOWN, COOLDOWN, "b"), true);
    assert.equal(await store.notifications.claimSend("gpu-1", "server.down", T0 + 5 + COOLDOWN, COOLDOWN, "a"), false);
  } finally {
    await other.close();
  }
});

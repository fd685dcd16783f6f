import assert from "node:assert/strict";
import { test } from "node:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openStore, redisTaskRepo } from "../store/index.js";
import { bullmqTaskRepo } from "../store/bullmq-task-repo.js";
import { FlotillaError } from "../kernel/index.js";
import { redisAccess, taskBackendOf, unavailableAs503, warnOfTasksLeftInDatabase } from "./backend.js";

const base = { queue_workers: { share_redis: false }, redis_prefix: "fl:" };

test("tasks live in Redis once there is one, unless the config keeps them in the database", () => {
  assert.equal(taskBackendOf({}), "sql");
  assert.equal(taskBackendOf({ redis_url: "redis://r:6379" }), "redis");
  assert.equal(taskBackendOf({ redis_url: "redis://r:6379", queue_backend: "sql" }), "sql");
  assert.equal(taskBackendOf({ redis_url: "redis://r:6379", queue_backend: "bullmq" }), "bullmq");
});

test("workers are given Redis credentials only when tasks live there and the operator allows it", () => {
  const url = "redis://:s%40cret@cache.internal:6380/2";
  assert.equal(redisAccess({ ...base, redis_url: url }), null, "not allowed");
  assert.equal(redisAccess({ ...base, queue_workers: { share_redis: true } }), null, "no Redis");
  assert.equal(redisAccess({ ...base, queue_workers: { share_redis: true }, redis_url: url, queue_backend: "sql" }), null, "tasks in the database");
  assert.deepEqual(redisAccess({ ...base, queue_workers: { share_redis: true }, redis_url: url }), { addr: "cache.internal:6380", password: "s@cret", db: 2, key_prefix: "fl:tasks:" });
  assert.equal(redisAccess({ ...base, queue_workers: { share_redis: true }, redis_url: url, queue_backend: "bullmq" })?.key_prefix, "fl:bull", "BullMQ's own prefix");
});

for (const [name, open] of [["redis", redisTaskRepo], ["bullmq", bullmqTaskRepo]] as const) {
  test(`a Redis that does not answer fails task calls as 503 store_unavailable, not as internal errors [${name}]`, async () => {
    const dead = open("redis://127.0.0.1:1", "fl:");
    const warnings: string[] = [];
    const tasks = unavailableAs503(dead, { warn: (m) => warnings.push(m) });
    try {
      const err = await tasks.get("t1").then(
        () => undefined,
        (e: unknown) => e,
      );
      assert.ok(err instanceof FlotillaError, String(err));
      assert.deepEqual([err.code, err.status, err.headers?.["retry-after"]], ["store_unavailable", 503, "1"]);
      assert.match(err.message, /task store \(Redis\) is not answering/);
      await tasks.counts("q", Date.now()).catch(() => undefined);
      assert.equal(warnings.length, 1, "logged once for the outage, not per call");
      assert.match(warnings[0] ?? "", /not answering: .+/, "the log says why");
    } finally {
      await dead.close();
    }
  });
}

test("with tasks on Redis, unfinished tasks left in the database are reported at start, not silently stranded", async () => {
  const dir = mkdtempSync(join(tmpdir(), "flotilla-backend-"));
  const store = await openStore({ dataDir: dir });
  try {
    const now = Date.now();
    const row = { queue: "q", data: "{}", result: null, error: null, attempts: 0, max_attempts: 1, dead_letter: 1, timeout_ms: 1000, run_at: now, lease_owner: null, lease_until: null, cancel_requested: 0, user_id: null, key_id: null, webhook_url: null, created_at: now, updated_at: now, started_at: null, finished_at: null };
    await store.tasks.insert([{ ...row, id: "waiting", state: "pending" }, { ...row, id: "done", state: "completed" }]);
    const warnings: string[] = [];
    const log = { warn: (m: string) => warnings.push(m) };
    assert.equal(await warnOfTasksLeftInDatabase("sql", store, log), 0, "tasks in the database are where they belong");
    assert.equal(await warnOfTasksLeftInDatabase("redis", store, log), 1);
    assert.deepEqual(warnings, ["1 unfinished tasks are in the database, but tasks now live in Redis: they will not run unless queue_backend is set to sql"]);
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

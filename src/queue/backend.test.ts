import assert from "node:assert/strict";
import { test } from "node:test";
import { redisTaskRepo } from "../store/index.js";
import { FlotillaError } from "../server/errors.js";
import { redisAccess, taskBackendOf, unavailableAs503 } from "./backend.js";

const base = { queue_workers: { share_redis: false }, redis_prefix: "fl:" };

test("tasks live in Redis once there is one, unless the config keeps them in the database", () => {
  assert.equal(taskBackendOf({}), "sql");
  assert.equal(taskBackendOf({ redis_url: "redis://r:6379" }), "redis");
  assert.equal(taskBackendOf({ redis_url: "redis://r:6379", queue_backend: "sql" }), "sql");
});

test("workers are given Redis credentials only when tasks live there and the operator allows it", () => {
  const url = "redis://:s%40cret@cache.internal:6380/2";
  assert.equal(redisAccess({ ...base, redis_url: url }), null, "not allowed");
  assert.equal(redisAccess({ ...base, queue_workers: { share_redis: true } }), null, "no Redis");
  assert.equal(redisAccess({ ...base, queue_workers: { share_redis: true }, redis_url: url, queue_backend: "sql" }), null, "tasks in the database");
  assert.deepEqual(redisAccess({ ...base, queue_workers: { share_redis: true }, redis_url: url }), { addr: "cache.internal:6380", password: "s@cret", db: 2, key_prefix: "fl:tasks:" });
});

test("a Redis that does not answer fails task calls as 503 store_unavailable, not as internal errors", async () => {
  const dead = redisTaskRepo("redis://127.0.0.1:1");
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

import assert from "node:assert/strict";
import { test } from "node:test";
import { redisAccess, taskBackendOf } from "./backend.js";

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

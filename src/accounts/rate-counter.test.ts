import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { test, type TestContext } from "node:test";
import { requireRedis, TEST_REDIS_URL } from "../store/test-backends.js";
import { MemoryRateCounter, RedisRateCounter, type RateCounter } from "./rate-counter.js";

// One contract, two backends: the in-process counter and Redis (shared by replicas).

const T0 = 1_700_000_040_000; // a whole minute

/** `another`: a second replica's counter on the same store, for backends that share. */
type Make = (t: TestContext) => Promise<{ counter: RateCounter; another?(): RateCounter } | undefined>;

const backends: Record<string, Make> = {
  memory: async () => {
    return { counter: new MemoryRateCounter() };
  },
  redis: async (t) => {
    if (!(await requireRedis(t))) return undefined;
    const prefix = `flotilla-test:${randomBytes(6).toString("hex")}:`;
    const made: RateCounter[] = [];
    const make = () => {
      const c = new RedisRateCounter(TEST_REDIS_URL, prefix);
      made.push(c);
      return c;
    };
    t.after(() => Promise.all(made.map((c) => c.close())));
    return { counter: make(), another: make };
  },
};

for (const [name, make] of Object.entries(backends)) {
  test(`hits are counted per key within a window, and a new window starts at zero [${name}]`, async (t) => {
    const made = await make(t);
    if (!made) return;
    const { counter } = made;
    const counts = [];
    for (let i = 0; i < 3; i++) counts.push(await counter.hit("a", 60_000, T0 + i));
    assert.deepEqual(counts, [1, 2, 3]);
    assert.equal(await counter.hit("b", 60_000, T0), 1, "keys count apart");
    assert.equal(await counter.hit("a", 60_000, T0 + 59_999), 4);
    assert.equal(await counter.hit("a", 60_000, T0 + 60_000), 1, "the next window");
    assert.equal(await counter.hit("a", 1_000, T0), 1, "another window length counts apart");
  });

  if (name === "memory") continue;
  test(`counters of two replicas share their counts [${name}]`, async (t) => {
    const made = await make(t);
    if (!made?.another) return;
    const other = made.another();
    await made.counter.hit("shared", 60_000, T0);
    await other.hit("shared", 60_000, T0);
    const counts = await Promise.all([made.counter.hit("shared", 60_000, T0), other.hit("shared", 60_000, T0)]);
    assert.deepEqual(counts.sort(), [3, 4]);
  });
}

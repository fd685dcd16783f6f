import assert from "node:assert/strict";
import { test } from "node:test";
import { LoginThrottle } from "./login-throttle.js";

const T0 = 1_800_000_000_000;

test("a guesser at one address is refused after five failures for a name, and the name's owner elsewhere is only slowed", () => {
  const throttle = new LoginThrottle();
  for (let i = 0; i < 5; i++) {
    assert.deepEqual(throttle.check("root", "203.0.113.7", T0), { refuseMs: 0, delayMs: 0 });
    throttle.failed("root", "203.0.113.7", T0);
  }
  assert.deepEqual(throttle.check("root", "203.0.113.7", T0), { refuseMs: 0, delayMs: 0 }, "five failures are free");
  throttle.failed("root", "203.0.113.7", T0);
  assert.deepEqual(throttle.check("root", "203.0.113.7", T0), { refuseMs: 1000, delayMs: 250 });
  assert.deepEqual(throttle.check("root", "198.51.100.9", T0), { refuseMs: 0, delayMs: 250 }, "the owner's own address is not refused");
  throttle.failed("root", "203.0.113.7", T0 + 1000);
  assert.equal(throttle.check("root", "203.0.113.7", T0 + 1000).refuseMs, 2000, "doubling from the last failure");
  assert.equal(throttle.check("root", "203.0.113.7", T0 + 3000).refuseMs, 0, "and over once waited out");
  for (let i = 0; i < 20; i++) throttle.failed("root", `10.0.${i}.1`, T0 + 3000);
  assert.equal(throttle.check("root", "198.51.100.9", T0 + 3000).delayMs, 5000, "the slowing stops at five seconds");
  throttle.succeeded("root", "198.51.100.9");
  assert.deepEqual(throttle.check("root", "198.51.100.9", T0 + 3000), { refuseMs: 0, delayMs: 0 }, "the right password clears the name's slowing");
});

test("an address spraying names is refused after twenty failures across them; failures older than a quarter hour are forgotten", () => {
  const throttle = new LoginThrottle();
  for (let i = 0; i < 20; i++) throttle.failed(`name-${i}`, "203.0.113.7", T0);
  assert.equal(throttle.check("fresh", "203.0.113.7", T0).refuseMs, 0);
  throttle.failed("name-20", "203.0.113.7", T0);
  assert.equal(throttle.check("fresh", "203.0.113.7", T0).refuseMs, 1000);
  assert.equal(throttle.check("fresh", "198.51.100.9", T0).refuseMs, 0);
  assert.equal(throttle.check("fresh", "203.0.113.7", T0 + 15 * 60_000 + 1).refuseMs, 0);
});

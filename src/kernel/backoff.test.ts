import assert from "node:assert/strict";
import { test } from "node:test";
import { Backoff } from "./backoff.js";

test("backoff doubles from its start to its cap, each wait within ±20 %, and starts over after reset", () => {
  const backoff = new Backoff(100, 1000);
  const waits = Array.from({ length: 7 }, () => backoff.next());
  const nominal = [100, 200, 400, 800, 1000, 1000, 1000];
  waits.forEach((wait, i) => assert.ok(wait >= nominal[i] * 0.8 && wait <= nominal[i] * 1.2, `wait ${i} was ${wait}, near ${nominal[i]}`));
  backoff.reset();
  const first = backoff.next();
  assert.ok(first >= 80 && first <= 120, `after reset: ${first}`);
});

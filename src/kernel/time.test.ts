import assert from "node:assert/strict";
import { test } from "node:test";
import { isoTime, isoTimeOrNull } from "./time.js";

test("stored times become ISO text, and a value no Date can hold is clamped instead of throwing", () => {
  assert.equal(isoTime(0), "1970-01-01T00:00:00.000Z");
  assert.equal(isoTime(1_796_548_835_666), "2026-12-06T09:20:35.666Z");
  assert.equal(isoTime(Infinity), "+275760-09-13T00:00:00.000Z");
  assert.equal(isoTime(1e308), "+275760-09-13T00:00:00.000Z");
  assert.equal(isoTime(-Infinity), "-271821-04-20T00:00:00.000Z");
  assert.equal(isoTime(Number.NaN), "1970-01-01T00:00:00.000Z");
  assert.deepEqual([isoTimeOrNull(null), isoTimeOrNull(undefined), isoTimeOrNull(1e308)], [null, null, "+275760-09-13T00:00:00.000Z"]);
});

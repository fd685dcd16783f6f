import assert from "node:assert/strict";
import { test } from "node:test";
import { setImmediate as tick } from "node:timers/promises";
import { AuditRetention } from "./retention.js";

const DAY_MS = 86_400_000;

/** An audit store holding `left` old rows, recording each prune call. */
function fakeAudit(left: number) {
  const calls: Array<{ beforeMs: number; batch: number }> = [];
  return {
    calls,
    async pruneRequests(beforeMs: number, batch: number) {
      calls.push({ beforeMs, batch });
      const n = Math.min(batch, left);
      left -= n;
      return n;
    },
  };
}

test("a prune deletes batch after batch until a batch comes back short, with the cut at retention_days", async () => {
  const audit = fakeAudit(2500);
  const retention = new AuditRetention(audit, { retentionDays: 7, batch: 1000, onError: assert.fail });
  const now = Date.UTC(2026, 0, 10);
  assert.equal(await retention.prune(now), 2500);
  assert.deepEqual(audit.calls.map((c) => c.batch), [1000, 1000, 1000]);
  assert.ok(audit.calls.every((c) => c.beforeMs === now - 7 * DAY_MS));
});

test("retention_days 0 keeps every row: no prune is ever run", async (t) => {
  t.mock.timers.enable({ apis: ["setTimeout"] });
  const audit = fakeAudit(10);
  const retention = new AuditRetention(audit, { retentionDays: 0, everyMs: 1000, onError: assert.fail });
  retention.start();
  t.mock.timers.tick(5000);
  assert.equal(await retention.prune(), 0);
  assert.equal(audit.calls.length, 0);
  await retention.close();
});

test("started, it prunes within the first interval and then once per interval; a failure is reported and the next runs", async (t) => {
  t.mock.timers.enable({ apis: ["setTimeout"] });
  let fail = true;
  const errors: unknown[] = [];
  let calls = 0;
  const audit = {
    async pruneRequests() {
      calls++;
      if (fail) throw new Error("database away");
      return 0;
    },
  };
  const retention = new AuditRetention(audit, { retentionDays: 1, everyMs: 1000, onError: (e) => errors.push(e) });
  retention.start();
  t.mock.timers.tick(1000);
  await tick();
  assert.equal(calls, 1);
  assert.equal(errors.length, 1);
  fail = false;
  t.mock.timers.tick(1000);
  await tick();
  assert.equal(calls, 2);
  await retention.close();
});

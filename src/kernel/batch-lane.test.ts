import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer, connect, type AddressInfo } from "node:net";
import { test } from "node:test";
import { batchTurn } from "./batch-lane.js";

test("batch steps waiting at once run one per turn of the event loop, other work between them", async () => {
  const order: string[] = [];
  const steps = ["b1", "b2", "b3"].map((name) => batchTurn().then(() => void order.push(name)));
  setImmediate(() => order.push("other"));
  await Promise.all(steps);
  assert.deepEqual(order, ["b1", "other", "b2", "b3"], "plain setImmediate steps would all run before the other work");
});

test("a socket is read while a long chain of batch steps waits, not after all of them", async () => {
  const server = createServer((socket) => socket.end("hello"));
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const client = connect((server.address() as AddressInfo).port, "127.0.0.1");
  await once(client, "connect");
  const done: number[] = [];
  let readAfter: number | undefined;
  client.once("data", () => (readAfter = done.length));
  // Each step keeps the loop busy for a millisecond, as a synchronous SQLite statement would.
  await Promise.all(
    Array.from({ length: 40 }, (_, i) =>
      batchTurn().then(() => {
        const until = performance.now() + 1;
        while (performance.now() < until);
        done.push(i);
      }),
    ),
  );
  client.destroy();
  server.close();
  assert.ok(readAfter !== undefined && readAfter < 20, `the answer was read after ${readAfter} of 40 steps`);
});

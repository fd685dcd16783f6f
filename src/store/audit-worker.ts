import { parentPort, workerData } from "node:worker_threads";
import { auditRepo } from "./audit-repo.js";
import { connect } from "./connect.js";
import type { RequestRow, UsageRow } from "./schema.js";

/** The SQLite audit writer's thread: one connection, one batch at a time. */
const { db } = connect({ dataDir: (workerData as { dataDir: string }).dataDir });
const audit = auditRepo(db);
let queue = Promise.resolve();

parentPort?.on("message", (message: { id: number; rows: RequestRow[]; usage: UsageRow[] }) => {
  queue = queue.then(async () => {
    try {
      await audit.insertRequests(message.rows, message.usage);
      parentPort?.postMessage({ id: message.id });
    } catch (err) {
      parentPort?.postMessage({ id: message.id, error: (err as Error).message ?? String(err) });
    }
  });
});

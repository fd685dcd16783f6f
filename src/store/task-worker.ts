import { parentPort, workerData } from "node:worker_threads";
import { connect } from "./connect.js";
import { taskRepo, type TaskRepo } from "./task-repo.js";

/** The SQLite task backend's thread: its own connection, one call at a time, in the order they came. */
const { db } = connect({ dataDir: (workerData as { dataDir: string }).dataDir });
const tasks = taskRepo(db, "sqlite");
let queue = Promise.resolve();

parentPort?.on("message", (message: { id: number; method: keyof TaskRepo; args: unknown[] }) => {
  queue = queue.then(async () => {
    try {
      const result = await (tasks[message.method] as (...args: unknown[]) => Promise<unknown>)(...message.args);
      parentPort?.postMessage({ id: message.id, result });
    } catch (err) {
      parentPort?.postMessage({ id: message.id, error: (err as Error).message ?? String(err) });
    }
  });
});

import { Worker } from "node:worker_threads";
import type { StoreOptions } from "./connect.js";
import type { TaskRepo } from "./task-repo.js";
import { threadCalls } from "./thread-calls.js";

export interface TaskThread extends TaskRepo {
  close(): Promise<void>;
}

// Every method of the contract, checked by the compiler: a new one cannot be left out.
const METHODS = Object.keys({
  insert: 1, claim: 1, claimUpTo: 1, heartbeat: 1, finish: 1, failAttempt: 1, expireLeases: 1, cancel: 1, get: 1, list: 1, remove: 1,
  counts: 1, setPaused: 1, pausedQueues: 1, registerWorker: 1, touchWorker: 1, workers: 1, worker: 1,
} satisfies Record<keyof TaskRepo, 1>) as Array<keyof TaskRepo>;

/**
 * The SQL task backend on SQLite, run in a worker thread with a connection of
 * its own (WAL lets it write beside the main one). better-sqlite3 is
 * synchronous: on the event loop, each claim and finish of a busy queue held up
 * the interactive requests in flight. Here a call costs the loop a message.
 */
export function taskRepoInThread(options: Pick<StoreOptions, "dataDir">): TaskThread {
  const worker = new Worker(new URL("./task-worker.js", import.meta.url), { workerData: { dataDir: options.dataDir } });
  const call = threadCalls(worker, "the task store's thread stopped");
  const repo = Object.fromEntries(METHODS.map((method) => [method, (...args: unknown[]) => call({ method, args })])) as unknown as TaskRepo;
  return {
    ...repo,
    async close() {
      await worker.terminate();
    },
  };
}

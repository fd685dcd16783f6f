import { Worker } from "node:worker_threads";
import type { StoreOptions } from "./connect.js";
import type { TaskRepo } from "./task-repo.js";

export interface TaskThread extends TaskRepo {
  close(): Promise<void>;
}

interface Reply {
  id: number;
  result?: unknown;
  error?: string;
}

const METHODS: ReadonlyArray<keyof TaskRepo> = [
  "insert", "claim", "claimUpTo", "heartbeat", "finish", "failAttempt", "expireLeases", "cancel", "get", "list", "remove",
  "counts", "setPaused", "pausedQueues", "registerWorker", "touchWorker", "workers", "worker",
];

/**
 * The SQL task backend on SQLite, run in a worker thread with a connection of
 * its own (WAL lets it write beside the main one). better-sqlite3 is
 * synchronous: on the event loop, each claim and finish of a busy queue held up
 * the interactive requests in flight. Here a call costs the loop a message.
 */
export function taskRepoInThread(options: Pick<StoreOptions, "dataDir">): TaskThread {
  const worker = new Worker(new URL("./task-worker.js", import.meta.url), { workerData: { dataDir: options.dataDir } });
  const waiting = new Map<number, { resolve(value: unknown): void; reject(err: Error): void }>();
  let next = 0;
  let stopped: Error | undefined;
  const failAll = (err: Error) => {
    stopped ??= err;
    for (const w of waiting.values()) w.reject(err);
    waiting.clear();
  };
  worker.on("message", (reply: Reply) => {
    const w = waiting.get(reply.id);
    waiting.delete(reply.id);
    if (reply.error === undefined) w?.resolve(reply.result);
    else w?.reject(new Error(reply.error));
  });
  worker.on("error", failAll);
  worker.on("exit", () => failAll(new Error("the task store's thread stopped")));
  const call = (method: keyof TaskRepo, args: unknown[]) =>
    new Promise<unknown>((resolve, reject) => {
      if (stopped) return reject(stopped);
      const id = next++;
      waiting.set(id, { resolve, reject });
      worker.postMessage({ id, method, args });
    });
  const repo = Object.fromEntries(METHODS.map((method) => [method, (...args: unknown[]) => call(method, args)])) as unknown as TaskRepo;
  return {
    ...repo,
    async close() {
      await worker.terminate();
    },
  };
}

import { parentPort, type Worker } from "node:worker_threads";

interface Reply {
  id: number;
  result?: unknown;
  error?: string;
}

/**
 * Calls into a store thread: each message goes with an id, and the promise
 * settles with the thread's answer to that id. Once the thread stops, every
 * call waiting and every later one fails with why.
 */
export function threadCalls(worker: Worker, stoppedMessage: string): (message: object) => Promise<unknown> {
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
  worker.on("exit", () => failAll(new Error(stoppedMessage)));
  return (message) =>
    new Promise((resolve, reject) => {
      if (stopped) return reject(stopped);
      const id = next++;
      waiting.set(id, { resolve, reject });
      worker.postMessage({ ...message, id });
    });
}

/** The thread's side: answers each message in the order they came, one at a time (a connection runs one statement at a time anyway). */
export function answerInOrder<M extends object>(handle: (message: M) => Promise<unknown>): void {
  let queue = Promise.resolve();
  parentPort?.on("message", (message: M & { id: number }) => {
    queue = queue.then(async () => {
      try {
        parentPort?.postMessage({ id: message.id, result: await handle(message) });
      } catch (err) {
        parentPort?.postMessage({ id: message.id, error: (err as Error).message ?? String(err) });
      }
    });
  });
}

import { Worker } from "node:worker_threads";
import type { AuditRepo } from "./audit-repo.js";
import type { Store, StoreOptions } from "./index.js";
import type { RequestRow, UsageRow } from "./schema.js";

/** Where the audit writer sends its batches. */
export interface AuditSink {
  readonly audit: Pick<AuditRepo, "insertRequests">;
  close(): Promise<void>;
}

interface Reply {
  id: number;
  error?: string;
}

/**
 * better-sqlite3 is synchronous: a batch of a few thousand inserts would stall
 * every request in flight. On SQLite the batches go to a worker thread with a
 * connection of its own (WAL lets it write beside the main one); PostgreSQL's
 * driver is asynchronous already, so there the store itself is the sink.
 */
export function openAuditSink(store: Store, options: StoreOptions): AuditSink {
  if (store.dialect !== "sqlite") return { audit: store.audit, close: async () => undefined };
  const worker = new Worker(new URL("./audit-worker.js", import.meta.url), { workerData: { dataDir: options.dataDir } });
  const waiting = new Map<number, { resolve(): void; reject(err: Error): void }>();
  let next = 0;
  const failAll = (err: Error) => {
    for (const w of waiting.values()) w.reject(err);
    waiting.clear();
  };
  worker.on("message", (reply: Reply) => {
    const w = waiting.get(reply.id);
    waiting.delete(reply.id);
    if (reply.error === undefined) w?.resolve();
    else w?.reject(new Error(reply.error));
  });
  worker.on("error", failAll);
  worker.on("exit", () => failAll(new Error("the audit writer thread stopped")));
  return {
    audit: {
      insertRequests(rows: RequestRow[], usage: UsageRow[] = []) {
        const id = next++;
        return new Promise<void>((resolve, reject) => {
          waiting.set(id, { resolve, reject });
          worker.postMessage({ id, rows, usage });
        });
      },
    },
    async close() {
      await worker.terminate();
    },
  };
}

import { Worker } from "node:worker_threads";
import type { AuditRepo } from "./audit-repo.js";
import type { Store, StoreOptions } from "./index.js";
import type { RequestRow, UsageRow } from "./schema.js";
import { threadCalls } from "./thread-calls.js";

/** Where the audit writer sends its batches. */
export interface AuditSink {
  readonly audit: Pick<AuditRepo, "insertRequests">;
  close(): Promise<void>;
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
  const call = threadCalls(worker, "the audit writer thread stopped");
  return {
    audit: {
      insertRequests: async (rows: RequestRow[], usage: UsageRow[] = []) => void (await call({ rows, usage })),
    },
    async close() {
      await worker.terminate();
    },
  };
}

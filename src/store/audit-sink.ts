import { Worker } from "node:worker_threads";
import type { AuditRepo } from "./audit-repo.js";
import type { AuditStats } from "./audit-stats.js";
import type { Store, StoreOptions } from "./index.js";
import { threadCalls } from "./thread-calls.js";

/** What runs on the audit thread: the writes, the retention's deletes, and the aggregates that read the whole window. */
export type AuditWork = Pick<AuditRepo, "insertRequests" | "pruneRequests" | "pruneRollups"> & AuditStats;
export type AuditCall = { [K in keyof AuditWork]: { method: K; args: Parameters<AuditWork[K]> } }[keyof AuditWork];

/** Where the audit writer sends its batches, the retention its deletes and the operations views their aggregates. */
export interface AuditSink {
  readonly audit: AuditWork;
  close(): Promise<void>;
}

const METHODS: Array<keyof AuditWork> = ["insertRequests", "pruneRequests", "pruneRollups", "usageBy", "analyticsBuckets", "modelBuckets", "routeCounts", "retryReasons", "nodeModels", "percentiles"];

/**
 * better-sqlite3 is synchronous: a batch of a few thousand inserts, or an
 * aggregate over a week of requests, would stall every request in flight. On
 * SQLite this work goes to a worker thread with a connection of its own (WAL
 * lets it write beside the main one), one call at a time; PostgreSQL's driver
 * is asynchronous already, so there the store itself is the sink.
 */
export function openAuditSink(store: Store, options: StoreOptions): AuditSink {
  if (store.dialect !== "sqlite") return { audit: store.audit, close: async () => undefined };
  const worker = new Worker(new URL("./audit-worker.js", import.meta.url), { workerData: { dataDir: options.dataDir } });
  const call = threadCalls(worker, "the audit thread stopped");
  const audit = Object.fromEntries(METHODS.map((method) => [method, (...args: unknown[]) => call({ method, args })])) as unknown as AuditWork;
  return {
    audit,
    async close() {
      await worker.terminate();
    },
  };
}

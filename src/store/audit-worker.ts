import { workerData } from "node:worker_threads";
import { auditRepo } from "./audit-repo.js";
import type { AuditCall } from "./audit-sink.js";
import { connect } from "./connect.js";
import { answerInOrder } from "./thread-calls.js";

/** The SQLite audit thread: one connection, one call at a time. */
const { db } = connect({ dataDir: (workerData as { dataDir: string }).dataDir });
const audit = auditRepo(db, "sqlite");

answerInOrder((message: AuditCall) => (audit[message.method] as (...args: unknown[]) => Promise<unknown>)(...message.args));

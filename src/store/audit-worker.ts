import { workerData } from "node:worker_threads";
import { auditRepo } from "./audit-repo.js";
import { connect } from "./connect.js";
import type { RequestRow, UsageRow } from "./schema.js";
import { answerInOrder } from "./thread-calls.js";

/** The SQLite audit writer's thread: one connection, one batch at a time. */
const { db } = connect({ dataDir: (workerData as { dataDir: string }).dataDir });
const audit = auditRepo(db);

answerInOrder((message: { rows: RequestRow[]; usage: UsageRow[] }) => audit.insertRequests(message.rows, message.usage));

import { workerData } from "node:worker_threads";
import { connect } from "./connect.js";
import { taskRepo, type TaskRepo } from "./task-repo.js";
import { answerInOrder } from "./thread-calls.js";

/** The SQLite task backend's thread: its own connection, one call at a time, in the order they came. */
const { db } = connect({ dataDir: (workerData as { dataDir: string }).dataDir });
const tasks = taskRepo(db, "sqlite");

answerInOrder((message: { method: keyof TaskRepo; args: unknown[] }) => (tasks[message.method] as (...args: unknown[]) => Promise<unknown>)(...message.args));

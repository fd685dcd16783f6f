import type { Job, JobsOptions } from "bullmq";
import type { TaskRow, TaskState } from "./schema.js";

/** How a task is a BullMQ job: its data and options, the row read back, and the states BullMQ does not name. */

/** The prefix of BullMQ's keys, under the gateway's Redis prefix (BullMQ's tools take it as their `prefix`). */
export const bullmqKeyPrefix = (redisPrefix: string) => `${redisPrefix}bull`;

/** The task's columns that BullMQ has no field for, as the job's data. */
export interface JobData {
  data: string;
  max_attempts: number;
  dead_letter: number;
  timeout_ms: number;
  run_at: number;
  user_id: string | null;
  key_id: string | null;
  webhook_url: string | null;
}

/** Ends BullMQ keeps as failed, told apart beside it. */
export const FAILURE_ENDS = ["failed", "archived", "cancelled"] as const;
export type FailureEnd = (typeof FAILURE_ENDS)[number];

export function jobDataOf(row: TaskRow): JobData {
  return { data: row.data, max_attempts: row.max_attempts, dead_letter: row.dead_letter, timeout_ms: row.timeout_ms, run_at: row.run_at, user_id: row.user_id, key_id: row.key_id, webhook_url: row.webhook_url };
}

/** Made at `created_at`, due at `run_at`, tried `max_attempts` times with the backoff below; kept once ended, as rows are. */
export function jobOptsOf(row: TaskRow): JobsOptions {
  return { jobId: row.id, timestamp: row.created_at, delay: Math.max(0, row.run_at - row.created_at), attempts: row.max_attempts, backoff: { type: "flotilla" }, removeOnComplete: false, removeOnFail: false };
}

/** A failed attempt and when to try again; the backoff strategy reads the time from it. */
export class AttemptFailed extends Error {
  constructor(
    message: string,
    readonly retryAt: number,
  ) {
    super(message);
  }
}

/** The workers' backoff strategy: wait until the failed attempt's retry time (at least 1 ms, so a retry is delayed, not waiting). */
export const untilRetryAt = (_attempts: number, _type?: string, err?: Error) => Math.max(1, ((err as AttemptFailed).retryAt ?? 0) - Date.now());

/** A waiting or delayed job is a retry once it has been started, else pending or scheduled. */
export const waitingState = (attemptsStarted: number, delayed: boolean): "pending" | "scheduled" | "retry" => (attemptsStarted > 0 ? "retry" : delayed ? "scheduled" : "pending");

/** When a delayed job is due: BullMQ's delayed score is the time times 0x1000 plus an order within the millisecond. */
export const dueAt = (score: string) => Math.floor(Number(score) / 0x1000);

/** The task row of a job in `state`; `at` overrides what the caller knows better (its own now, the lease). */
export function rowOf(job: Job<JobData>, state: TaskState, at: Partial<TaskRow> = {}): TaskRow {
  const d = job.data;
  const times = [job.timestamp, job.processedOn ?? 0, job.finishedOn ?? 0, at.finished_at ?? 0];
  return {
    id: job.id as string,
    queue: job.queueName,
    state,
    data: d.data,
    result: state === "completed" ? ((job.returnvalue as string | null) ?? null) : null,
    error: state === "completed" ? null : job.failedReason || null,
    attempts: job.attemptsStarted,
    max_attempts: d.max_attempts,
    dead_letter: d.dead_letter,
    timeout_ms: d.timeout_ms,
    run_at: d.run_at,
    lease_owner: null,
    lease_until: null,
    cancel_requested: 0,
    user_id: d.user_id,
    key_id: d.key_id,
    webhook_url: d.webhook_url,
    created_at: job.timestamp,
    updated_at: Math.max(...times),
    started_at: job.processedOn ?? null,
    finished_at: state === "completed" ? (job.finishedOn ?? null) : null,
    ...at,
  };
}

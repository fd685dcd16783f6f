import { isoTime, type OutboundGuard } from "../kernel/index.js";
import type { Queues } from "../queue/index.js";
import type { ScheduledJobRow } from "../store/index.js";
import type { Action } from "./schemas.js";

/** Performs a job's action for its run at `runAt`: what it made (to show as the last run's result), or it throws. */
export type ActionRunner = (job: ScheduledJobRow, runAt: number) => Promise<unknown>;

const WEBHOOK_TIMEOUT_MS = 10_000;

/**
 * Queues the action's tasks (a task's data without a `model` runs the job's), or POSTs
 * the run to the webhook through the outbound guard, checked again against the address
 * it reaches now; redirects are not followed and an answer other than 2xx fails the run.
 */
export function jobActions(queues: Pick<Queues, "enqueue">, outbound: Pick<OutboundGuard, "fetch">): ActionRunner {
  return async function runJobAction(job, runAt) {
    const action = JSON.parse(job.action) as Action;
    if (action.type === "queue") {
      const rows = await Promise.all(action.tasks.map((task) => queues.enqueue({ queue: action.queue, data: withModel(task.data, job.model), timeoutSecs: task.timeout })));
      return { tasks: rows.map((row) => row.id) };
    }
    const body = { event: "scheduled_job.run", job: { id: job.id, name: job.name, model: job.model, node: job.node, durationMs: job.duration_ms }, runAt: isoTime(runAt), payload: action.payload ?? null };
    const answer = await outbound.fetch(
      action.url,
      { method: "POST", headers: { "content-type": "application/json", "x-flotilla-scheduled-job": job.id }, body: JSON.stringify(body) },
      { timeoutMs: WEBHOOK_TIMEOUT_MS },
    );
    if (answer.status < 200 || answer.status >= 300) throw new Error(`the webhook answered ${answer.status}`);
    return { status: answer.status };
  };
}

function withModel(data: unknown, model: string): unknown {
  if (!data || typeof data !== "object" || Array.isArray(data) || "model" in data) return data;
  return { ...data, model };
}

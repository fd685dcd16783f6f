import { boundedFetch, type OutboundGuard } from "../kernel/index.js";
import type { TaskRow } from "../store/index.js";
import { taskView } from "./routes.js";
import type { Queues } from "./service.js";

const WEBHOOK_TIMEOUT_MS = 10_000;

/**
 * Tells each ended task's webhook, if it has one: a POST of the task as the API shows it. Failures are logged, not retried.
 * The queue's own webhook_url (the operator's YAML) is trusted; any other came with the task from whoever queued it, so it
 * goes through the outbound guard, checked again against the address it reaches now. Redirects are not followed.
 */
export function sendWebhooks(queues: Queues, outbound: Pick<OutboundGuard, "fetch">, log: { warn(message: string): void }): void {
  queues.on("ended", (row: TaskRow) => {
    const url = row.webhook_url;
    if (!url) return;
    const request = {
      method: "POST",
      headers: { "content-type": "application/json", "x-flotilla-task": row.id },
      body: JSON.stringify({ event: `task.${row.state}`, task: taskView(row) }),
    };
    const limits = { timeoutMs: WEBHOOK_TIMEOUT_MS };
    void (queues.configs.isQueueWebhook(row.queue, url) ? boundedFetch(url, request, limits) : outbound.fetch(url, request, limits)).then(
      (answer) => {
        if (answer.status < 200 || answer.status >= 300) log.warn(`webhook ${url} for task ${row.id} answered ${answer.status}`);
      },
      (err: Error) => log.warn(`webhook ${url} for task ${row.id} failed: ${err.message}`),
    );
  });
}

import type { TaskRow } from "../store/index.js";
import { taskView } from "./routes.js";
import type { Queues } from "./service.js";

const WEBHOOK_TIMEOUT_MS = 10_000;

/** Tells each ended task's webhook, if it has one: a POST of the task as the API shows it. Failures are logged, not retried. */
export function sendWebhooks(queues: Queues, log: { warn(message: string): void }): void {
  queues.on("ended", (row: TaskRow) => {
    if (!row.webhook_url) return;
    void fetch(row.webhook_url, {
      method: "POST",
      headers: { "content-type": "application/json", "x-flotilla-task": row.id },
      body: JSON.stringify({ event: `task.${row.state}`, task: taskView(row) }),
      signal: AbortSignal.timeout(WEBHOOK_TIMEOUT_MS),
    }).then(
      (res) => {
        if (!res.ok) log.warn(`webhook ${row.webhook_url} for task ${row.id} answered ${res.status}`);
        return res.arrayBuffer();
      },
      (err: Error) => log.warn(`webhook ${row.webhook_url} for task ${row.id} failed: ${err.message}`),
    );
  });
}

import { taskView, type Queues } from "../queue/index.js";
import type { Store, TaskRow } from "../store/index.js";
import type { WebhookDispatcher } from "./dispatcher.js";

/** Each ended task is an event (`task.completed`, `task.failed`, …) for the webhooks of whoever queued it. */
export function sendTaskEvents(queues: Queues, store: Pick<Store, "apiKeys">, dispatcher: WebhookDispatcher, log: { warn(msg: string): void }): void {
  queues.on("ended", (row: TaskRow) => {
    if (!row.key_id) return;
    void (async () => {
      const key = await store.apiKeys.get(row.key_id as string);
      await dispatcher.emitFor(key?.user_id ?? `key:${row.key_id}`, `task.${row.state}`, { id: row.id, task: taskView(row) });
    })().catch((err: Error) => log.warn(`webhooks for task ${row.id}: ${err.message}`));
  });
}

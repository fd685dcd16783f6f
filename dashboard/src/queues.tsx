import { useState } from "preact/hooks";
import { api } from "./api.js";
import { Alert } from "./controls.js";
import { millis, when } from "./format.js";
import { useAction, useApi } from "./hooks.js";
import { queuePath, STATES, TaskDetail, TaskList } from "./queue-tasks.js";
import "./queues.css";

/** A queue as /api/cli/queues lists it (src/queue/routes.ts QueueView). */
interface QueueView {
  name: string;
  priority: number;
  mode: string;
  consumer: string;
  concurrency: number;
  paused: boolean;
  counts: Record<string, number>;
  size: number;
  throughput_per_minute: number;
  latency_ms: number;
  source: string;
}

/** A queue worker as /api/cli/workers lists it (src/queue/worker-routes.ts WorkerView). */
interface WorkerView {
  worker_id: string;
  queue: string;
  status: "online" | "offline";
  registered_at: string;
  last_seen: string;
  current_task: string | null;
  completed: number;
  failed: number;
}

const REFRESH_MS = 3_000;

function QueueCard({ queue, shown, onShow, onChanged }: { queue: QueueView; shown: boolean; onShow: () => void; onChanged: () => void }) {
  const { busy, error, run } = useAction();
  const verb = queue.paused ? "unpause" : "pause";
  const toggle = () => run(() => api(`${queuePath(queue.name)}/${verb}`, { method: "POST" })).then(onChanged);
  return (
    <li class="card queue" data-queue={queue.name}>
      <div class="queue-head">
        <h3>{queue.name}</h3>
        <span class={`badge ${queue.paused ? "queue-paused" : "queue-running"}`}>{queue.paused ? "paused" : "running"}</span>
      </div>
      <p class="muted queue-meta">
        {queue.consumer === "workers" ? "queue workers" : "the gateway"} · priority {queue.priority} · {queue.concurrency} at once · {queue.mode.replace("_", " ")}
        {queue.source === "built-in" && " · the gateway's own"}
      </p>
      <dl class="counts">
        {STATES.map((state) => (
          <div key={state} class={`count count-${state}${(queue.counts[state] ?? 0) > 0 ? " some" : ""}`}>
            <dt>{state}</dt>
            <dd>{queue.counts[state] ?? 0}</dd>
          </div>
        ))}
      </dl>
      <dl class="queue-rates">
        <dt>Done in the last minute</dt>
        <dd>{queue.throughput_per_minute}</dd>
        <dt>Oldest waiting for</dt>
        <dd>{queue.latency_ms > 0 ? millis(queue.latency_ms) : "–"}</dd>
      </dl>
      <div class="queue-actions">
        <button type="button" onClick={toggle} disabled={busy} aria-label={`${queue.paused ? "Unpause" : "Pause"} ${queue.name}`}>
          {queue.paused ? "Unpause" : "Pause"}
        </button>
        <button type="button" onClick={onShow} aria-pressed={shown} aria-label={`Tasks of ${queue.name}`}>
          Tasks
        </button>
      </div>
      <Alert text={error} />
    </li>
  );
}

function Workers() {
  const { data, error } = useApi<{ workers: WorkerView[] }>("/api/cli/workers", REFRESH_MS * 2);
  return (
    <section aria-labelledby="workers-title">
      <h2 id="workers-title">Queue workers</h2>
      <Alert text={error} />
      <div class="table-wrap">
        <table class="workers">
          <thead>
            <tr>
              <th scope="col">Worker</th>
              <th scope="col">Queue</th>
              <th scope="col">Status</th>
              <th scope="col">Working on</th>
              <th scope="col">Done</th>
              <th scope="col">Failed</th>
              <th scope="col">Last seen</th>
            </tr>
          </thead>
          <tbody>
            {data?.workers.map((w) => (
              <tr key={w.worker_id} data-worker={w.worker_id}>
                <td class="mono">{w.worker_id}</td>
                <td>{w.queue}</td>
                <td class={w.status === "online" ? "status-active" : "status-offline"}>{w.status}</td>
                <td class="mono">{w.current_task ?? "–"}</td>
                <td class="num">{w.completed}</td>
                <td class="num">{w.failed}</td>
                <td>{when(w.last_seen)}</td>
              </tr>
            ))}
            {data?.workers.length === 0 && (
              <tr>
                <td colSpan={7} class="muted">
                  No queue worker has registered (`flotilla worker --queue NAME` is one).
                </td>
              </tr>
            )}
          </tbody>
        </table>
      </div>
    </section>
  );
}

/** Every queue with its counts, pause and unpause; one queue's tasks and one task; the queue workers. Refreshed every few seconds. */
export function Queues() {
  const { data, error, reload } = useApi<{ queues: QueueView[] }>("/api/cli/queues", REFRESH_MS);
  const [shown, setShown] = useState<string>();
  const [task, setTask] = useState<string>();
  const queue = data?.queues.find((q) => q.name === shown);
  return (
    <section aria-labelledby="queues-title" class="queues-page">
      <div class="section-head">
        <h2 id="queues-title">Queues</h2>
        <span class="muted">refreshed every {REFRESH_MS / 1000} s</span>
      </div>
      <Alert text={error} />
      {data?.queues.length === 0 && <p class="muted">No queues: add them under `queues:` in the config file, or as files in the queues directory.</p>}
      <ul class="queues">
        {data?.queues.map((q) => (
          <QueueCard
            key={q.name}
            queue={q}
            shown={q.name === shown}
            onChanged={reload}
            onShow={() => {
              setShown(q.name === shown ? undefined : q.name);
              setTask(undefined);
            }}
          />
        ))}
      </ul>
      {queue && <TaskList key={queue.name} queue={queue} open={task} onOpen={setTask} onChanged={reload} />}
      {queue && task && <TaskDetail key={task} queue={queue.name} id={task} onClose={() => setTask(undefined)} onChanged={reload} />}
      <Workers />
    </section>
  );
}

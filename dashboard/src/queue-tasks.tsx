import { useEffect, useRef, useState } from "preact/hooks";
import { api } from "./api.js";
import { Alert } from "./controls.js";
import { when } from "./format.js";
import { useAction, useApi } from "./hooks.js";

/** The task states, in the order the job queue moves through them (src/queue/routes.ts STATES). */
export const STATES = ["pending", "scheduled", "active", "retry", "completed", "failed", "cancelled", "archived"] as const;
type TaskState = (typeof STATES)[number];
/** States a task may still leave: those a cancel applies to. */
const UNENDED: TaskState[] = ["pending", "scheduled", "active", "retry"];

/** A task as /api/cli/queues/{queue}/tasks lists it (src/queue/routes.ts TaskView). */
interface TaskView {
  id: string;
  queue: string;
  state: TaskState;
  data: unknown;
  result: unknown;
  error: string | null;
  attempts: number;
  max_attempts: number;
  created_at: string;
  run_at: string;
  started_at: string | null;
  finished_at: string | null;
}

const PAGE = 20;
const REFRESH_MS = 3_000;
/** Enough of a task id to tell it from its neighbours: task_ and 8 of its 32 hex digits (the whole id is its title). */
const shortId = (id: string) => (id.length > 14 ? `${id.slice(0, 13)}…` : id);
export const queuePath = (queue: string) => `/api/cli/queues/${encodeURIComponent(queue)}`;

/** Cancel (a task not yet ended; a running one is told to stop) and delete (any task not running), as the API allows. */
function TaskActions({ task, onDone }: { task: TaskView; onDone: (deleted: boolean) => void }) {
  const { busy, error, run } = useAction();
  const cancel = async () => {
    if (!confirm(`Cancel the task ${task.id}?`)) return;
    if (await run(() => api(`/api/cli/tasks/${encodeURIComponent(task.id)}`, { method: "DELETE" }))) onDone(false);
  };
  const remove = async () => {
    if (!confirm(`Delete the task ${task.id}? Its input and result are gone for good.`)) return;
    if (await run(() => api(`${queuePath(task.queue)}/tasks/${encodeURIComponent(task.id)}`, { method: "DELETE" }))) onDone(true);
  };
  return (
    <span class="task-actions">
      {UNENDED.includes(task.state) && (
        <button type="button" onClick={cancel} disabled={busy} aria-label={`Cancel ${task.id}`}>
          Cancel
        </button>
      )}
      {task.state !== "active" && (
        <button type="button" onClick={remove} disabled={busy} aria-label={`Delete ${task.id}`}>
          Delete
        </button>
      )}
      <Alert text={error} inline />
    </span>
  );
}

/** One queue's tasks, newest first: by state, a page at a time (the queue's counts say how many there are). */
export function TaskList({ queue, open, onOpen, onChanged }: { queue: { name: string; counts: Record<string, number> }; open?: string; onOpen: (id?: string) => void; onChanged: () => void }) {
  const [state, setState] = useState<TaskState | "">("");
  const [offset, setOffset] = useState(0);
  const query = new URLSearchParams({ limit: String(PAGE), offset: String(offset) });
  if (state) query.set("state", state);
  const { data, error, reload } = useApi<{ tasks: TaskView[] }>(`${queuePath(queue.name)}/tasks?${query}`, REFRESH_MS);
  const total = state ? (queue.counts[state] ?? 0) : Object.values(queue.counts).reduce((a, b) => a + b, 0);
  const changed = (deleted: boolean, id: string) => {
    if (deleted && id === open) onOpen(undefined);
    reload();
    onChanged();
  };
  return (
    <section class="card tasks" aria-labelledby="tasks-title">
      <div class="section-head">
        <h3 id="tasks-title">Tasks of {queue.name}</h3>
        <label class="inline">
          State
          <select
            value={state}
            onChange={(e) => {
              setState((e.currentTarget as HTMLSelectElement).value as TaskState | "");
              setOffset(0);
            }}
          >
            <option value="">all</option>
            {STATES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
      </div>
      <Alert text={error} />
      <div class="table-wrap">
        <table>
          <thead>
            <tr>
              <th scope="col">Task</th>
              <th scope="col">State</th>
              <th scope="col">Attempts</th>
              <th scope="col">Queued</th>
              <th scope="col">Ended</th>
              <th scope="col">
                <span class="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {data?.tasks.map((task) => (
              <tr key={task.id} data-task={task.id} aria-current={task.id === open ? "true" : undefined}>
                <td>
                  <button type="button" class="link mono" onClick={() => onOpen(task.id)} aria-label={`Open ${task.id}`} title={task.id}>
                    {shortId(task.id)}
                  </button>
                </td>
                <td class={`task-state state-${task.state}`}>{task.state}</td>
                <td class="num">
                  {task.attempts} / {task.max_attempts}
                </td>
                <td>{when(task.created_at)}</td>
                <td>{task.finished_at ? when(task.finished_at) : "–"}</td>
                <td>
                  <TaskActions task={task} onDone={(deleted) => changed(deleted, task.id)} />
                </td>
              </tr>
            ))}
            {data?.tasks.length === 0 && (
              <tr>
                <td colSpan={6} class="muted">
                  No {state || ""} tasks{offset > 0 ? " on this page" : ""}.
                </td>
              </tr>
            )}
          </tbody>
        </table>
      </div>
      <div class="task-pager">
        <button type="button" onClick={() => setOffset(Math.max(0, offset - PAGE))} disabled={offset === 0}>
          Newer
        </button>
        <span class="muted" aria-live="polite">
          {data && data.tasks.length > 0 ? `${offset + 1}–${offset + data.tasks.length} of ${Math.max(total, offset + data.tasks.length)}` : ""}
        </span>
        <button type="button" onClick={() => setOffset(offset + PAGE)} disabled={!data || data.tasks.length < PAGE}>
          Older
        </button>
      </div>
    </section>
  );
}

const json = (value: unknown) => JSON.stringify(value, null, 2);

/** One task: its input, its result or error, its attempts and times; kept fresh while it runs. */
export function TaskDetail({ queue, id, onClose, onChanged }: { queue: string; id: string; onClose: () => void; onChanged: () => void }) {
  const { data: task, error, reload } = useApi<TaskView>(`${queuePath(queue)}/tasks/${encodeURIComponent(id)}`, REFRESH_MS);
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), []);
  return (
    <section class="card task-detail" aria-labelledby="task-title">
      <div class="section-head">
        <h3 id="task-title" tabIndex={-1} ref={heading} class="mono">
          {id}
        </h3>
        {task && <span class={`badge task-state state-${task.state}`}>{task.state}</span>}
        <button type="button" onClick={onClose} aria-label="Close the task">
          Close
        </button>
      </div>
      <Alert text={error} />
      {task && (
        <>
          <dl class="task-times">
            <dt>Attempts</dt>
            <dd>
              {task.attempts} of {task.max_attempts}
            </dd>
            <dt>Queued</dt>
            <dd>{when(task.created_at)}</dd>
            <dt>Runs from</dt>
            <dd>{when(task.run_at)}</dd>
            <dt>Started</dt>
            <dd>{when(task.started_at)}</dd>
            <dt>Ended</dt>
            <dd>{task.finished_at ? when(task.finished_at) : "not yet"}</dd>
          </dl>
          <h4>Input</h4>
          <pre class="mono json task-input">{json(task.data)}</pre>
          {task.error !== null && (
            <>
              <h4>Error</h4>
              <pre class="mono json task-error">{task.error}</pre>
            </>
          )}
          <h4>Result</h4>
          {task.result === null ? <p class="muted">None yet.</p> : <pre class="mono json task-result">{json(task.result)}</pre>}
          <TaskActions
            task={task}
            onDone={(deleted) => {
              onChanged();
              if (deleted) onClose();
              else reload();
            }}
          />
        </>
      )}
    </section>
  );
}

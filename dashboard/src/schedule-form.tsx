import type { ComponentChildren } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { api } from "./api.js";
import { Alert } from "./controls.js";
import { useAction } from "./hooks.js";

/** A scheduled job as /api/scheduled-jobs lists it (src/schedule/schemas.ts JobView). */
export interface JobView {
  id: string;
  name: string;
  cron: string;
  timezone: string;
  model: string;
  node: string | null;
  durationMs: number;
  action: QueueAction | WebhookAction;
  enabled: boolean;
  source: string;
  origin: string | null;
  nextRun: string | null;
  lastRun: { at: string; status: "succeeded" | "failed"; error: string | null; result: unknown } | null;
  createdAt: string;
  updatedAt: string;
}
interface QueueAction {
  type: "queue";
  queue: string;
  tasks: Array<{ data: unknown; timeout?: number }>;
}
interface WebhookAction {
  type: "webhook";
  url: string;
  payload?: unknown;
}
interface Suggestions {
  suggestions: Array<{ start: string; end: string; cron: string; timezone: string }>;
}

/** The form's fields, as typed. */
interface Draft {
  name: string;
  cron: string;
  timezone: string;
  model: string;
  node: string;
  minutes: string;
  enabled: boolean;
  type: "queue" | "webhook";
  queue: string;
  tasks: string;
  url: string;
  payload: string;
}

const EMPTY: Draft = { name: "", cron: "", timezone: "UTC", model: "", node: "", minutes: "1", enabled: true, type: "queue", queue: "", tasks: "{}", url: "", payload: "" };
const tasksText = (action: QueueAction) => action.tasks.map((t) => JSON.stringify(t.data)).join("\n");

function draftOf(job: JobView): Draft {
  const { action } = job;
  return {
    name: job.name,
    cron: job.cron,
    timezone: job.timezone,
    model: job.model,
    node: job.node ?? "",
    minutes: String(job.durationMs / 60_000),
    enabled: job.enabled,
    type: action.type,
    queue: action.type === "queue" ? action.queue : "",
    tasks: action.type === "queue" ? tasksText(action) : "{}",
    url: action.type === "webhook" ? action.url : "",
    payload: action.type === "webhook" && action.payload !== undefined ? JSON.stringify(action.payload) : "",
  };
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new Error(`${what} is not JSON: ${(err as Error).message}`);
  }
}

/** The action the fields describe; a job's tasks left as they were keep their timeouts. */
function actionOf(draft: Draft, editing?: JobView): QueueAction | WebhookAction {
  if (draft.type === "webhook") return { type: "webhook", url: draft.url.trim(), ...(draft.payload.trim() ? { payload: parseJson(draft.payload, "The payload") } : {}) };
  const before = editing?.action.type === "queue" ? editing.action : undefined;
  if (before && tasksText(before) === draft.tasks) return { type: "queue", queue: draft.queue, tasks: before.tasks };
  const lines = draft.tasks.split("\n").filter((l) => l.trim() !== "");
  return { type: "queue", queue: draft.queue, tasks: lines.map((line, i) => ({ data: parseJson(line, `Task line ${i + 1}`) })) };
}

function bodyOf(draft: Draft, editing?: JobView) {
  const minutes = Number(draft.minutes);
  if (!(minutes > 0)) throw new Error("The expected duration must be more than 0 minutes");
  return {
    name: draft.name.trim(),
    cron: draft.cron.trim(),
    timezone: draft.timezone.trim() || "UTC",
    model: draft.model.trim(),
    node: draft.node.trim() || null,
    durationMs: Math.max(1, Math.round(minutes * 60_000)),
    action: actionOf(draft, editing),
    enabled: draft.enabled,
  };
}

const clock = (iso: string) => new Date(iso).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });

/** Open daily times for the model, duration and node typed so far (GET /api/scheduled-jobs/suggestions); a click takes one. */
function SuggestedTimes({ draft, onPick }: { draft: Draft; onPick: (cron: string, timezone: string) => void }) {
  const [found, setFound] = useState<Suggestions["suggestions"]>();
  const { busy, error, run } = useAction();
  const ask = () =>
    run(async () => {
      const minutes = Number(draft.minutes);
      if (!draft.model.trim() || !(minutes > 0)) throw new Error("Type the model and the expected duration first");
      const query = new URLSearchParams({ model: draft.model.trim(), durationMs: String(Math.round(minutes * 60_000)), timezone: draft.timezone.trim() || "UTC" });
      if (draft.node.trim()) query.set("node", draft.node.trim());
      setFound((await api<Suggestions>(`/api/scheduled-jobs/suggestions?${query}`)).suggestions);
    });
  return (
    <div class="suggested">
      <button type="button" onClick={ask} disabled={busy}>
        Suggest open times
      </button>
      <Alert text={error} inline />
      {found && found.length === 0 && <span class="muted">No open daily time in the next 24 hours.</span>}
      {found?.map((s) => (
        <button type="button" key={s.cron} class="slot" onClick={() => onPick(s.cron, s.timezone)} aria-label={`Use ${s.cron}`}>
          {clock(s.start)}–{clock(s.end)} <span class="mono">{s.cron}</span>
        </button>
      ))}
    </div>
  );
}

/** A labelled control; the control is a sibling of its label, so the label's text is the control's whole name. */
function Field({ id, label, hint, wide, children }: { id: string; label: string; hint?: string; wide?: boolean; children: ComponentChildren }) {
  return (
    <div class={wide ? "field wide" : "field"}>
      <label for={id}>{label}</label>
      {children}
      {hint && (
        <span id={`${id}-hint`} class="hint">
          {hint}
        </span>
      )}
    </div>
  );
}

/** Makes a job, or changes `editing`: the fields the API takes (src/schedule/schemas.ts JobBody). */
export function JobForm({ editing, queues, nodes, models, onSaved, onCancel }: { editing?: JobView; queues: string[]; nodes: string[]; models: string[]; onSaved: (job: JobView) => void; onCancel: () => void }) {
  const [draft, setDraft] = useState<Draft>(editing ? draftOf(editing) : { ...EMPTY, queue: queues[0] ?? "" });
  const { busy, error, run } = useAction();
  const first = useRef<HTMLInputElement>(null);
  useEffect(() => {
    if (editing) first.current?.focus();
  }, []);
  useEffect(() => {
    if (!draft.queue && queues[0]) setDraft((d) => ({ ...d, queue: queues[0] }));
  }, [queues.join("\n")]);
  const field = <K extends keyof Draft>(key: K) => ({
    value: draft[key] as string,
    onInput: (e: Event) => setDraft((d) => ({ ...d, [key]: (e.currentTarget as HTMLInputElement).value })),
  });
  const submit = (event: SubmitEvent) => {
    event.preventDefault();
    void run(async () => {
      const body = bodyOf(draft, editing);
      const path = editing ? `/api/scheduled-jobs/${encodeURIComponent(editing.id)}` : "/api/scheduled-jobs";
      onSaved(await api<JobView>(path, { method: editing ? "PUT" : "POST", body }));
      if (!editing) setDraft({ ...EMPTY, queue: draft.queue });
    });
  };
  return (
    <form class="card job-form" onSubmit={submit} aria-labelledby="job-form-title">
      <h3 id="job-form-title">{editing ? `Change ${editing.name}` : "Schedule a job"}</h3>
      <div class="job-fields">
        <Field id="job-name" label="Name">
          <input id="job-name" ref={first} required maxLength={128} {...field("name")} />
        </Field>
        <Field id="job-cron" label="Cron" hint="minute hour day month weekday">
          <input id="job-cron" required maxLength={128} class="mono" placeholder="30 2 * * *" aria-describedby="job-cron-hint" {...field("cron")} />
        </Field>
        <Field id="job-timezone" label="Timezone">
          <input id="job-timezone" maxLength={64} placeholder="UTC" {...field("timezone")} />
        </Field>
        <Field id="job-model" label="Model">
          <input id="job-model" required maxLength={256} list="job-models" {...field("model")} />
        </Field>
        <Field id="job-node" label="Node (optional)">
          <input id="job-node" maxLength={128} list="job-nodes" {...field("node")} />
        </Field>
        <Field id="job-minutes" label="Expected duration (minutes)">
          <input id="job-minutes" required type="number" min="0.001" step="any" {...field("minutes")} />
        </Field>
        <Field id="job-type" label="Each run">
          <select id="job-type" {...field("type")}>
            <option value="queue">queues tasks</option>
            <option value="webhook">calls a webhook</option>
          </select>
        </Field>
        {draft.type === "queue" ? (
          <Field id="job-queue" label="Queue">
            <select id="job-queue" required {...field("queue")}>
              {queues.map((q) => (
                <option key={q} value={q}>
                  {q}
                </option>
              ))}
            </select>
          </Field>
        ) : (
          <Field id="job-url" label="Webhook URL">
            <input id="job-url" required type="url" maxLength={2048} placeholder="https://…" {...field("url")} />
          </Field>
        )}
        {draft.type === "queue" ? (
          <Field id="job-tasks" label="Tasks: each line one task's data, as JSON" wide>
            <textarea id="job-tasks" required rows={3} class="mono" {...field("tasks")} />
          </Field>
        ) : (
          <Field id="job-payload" label="Payload (JSON, optional)" wide>
            <textarea id="job-payload" rows={3} class="mono" {...field("payload")} />
          </Field>
        )}
        <label class="check">
          <input type="checkbox" checked={draft.enabled} onChange={(e) => setDraft((d) => ({ ...d, enabled: (e.currentTarget as HTMLInputElement).checked }))} /> Enabled
        </label>
      </div>
      <SuggestedTimes draft={draft} onPick={(cron, timezone) => setDraft((d) => ({ ...d, cron, timezone }))} />
      <datalist id="job-models">
        {models.map((m) => (
          <option key={m} value={m} />
        ))}
      </datalist>
      <datalist id="job-nodes">
        {nodes.map((n) => (
          <option key={n} value={n} />
        ))}
      </datalist>
      <div class="form-actions">
        <button type="submit" class="primary" disabled={busy}>
          {editing ? "Save the changes" : "Schedule the job"}
        </button>
        {editing && (
          <button type="button" onClick={onCancel}>
            Cancel
          </button>
        )}
      </div>
      <Alert text={error} />
    </form>
  );
}

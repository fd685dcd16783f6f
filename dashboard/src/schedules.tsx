import { useState } from "preact/hooks";
import { api } from "./api.js";
import { Alert } from "./controls.js";
import { when } from "./format.js";
import { useAction, useApi } from "./hooks.js";
import { JobForm, type JobView } from "./schedule-form.js";
import { Timeline, type TimelineView } from "./timeline.js";
import "./schedules.css";

/** /api/scheduled-jobs/discover's answer (src/schedule/schemas.ts DiscoverView) and its import's (ImportView). */
interface Discovered {
  dockerHost: string;
  jobs: Array<{ container: string; containerId: string; job: { name?: string; cron?: string; model?: string } | null; problem: string | null; importedAs: string | null }>;
  reason: string | null;
}
interface Imported {
  imported: JobView[];
  skipped: Array<{ container: string; reason: string }>;
  reason: string | null;
}

const HOURS = [6, 24, 72, 168];

function actionText(action: JobView["action"]): string {
  if (action.type === "queue") return `queues ${action.tasks.length} task${action.tasks.length === 1 ? "" : "s"} in ${action.queue}`;
  try {
    return `calls ${new URL(action.url).host}`;
  } catch {
    return "calls a webhook";
  }
}

function JobRow({ job, onEdit, onChanged }: { job: JobView; onEdit: () => void; onChanged: () => void }) {
  const { busy, error, run } = useAction();
  const toggle = () => run(() => api(`/api/scheduled-jobs/${encodeURIComponent(job.id)}`, { method: "PUT", body: { enabled: !job.enabled } })).then(onChanged);
  const remove = async () => {
    if (!confirm(`Delete the scheduled job "${job.name}"?`)) return;
    if (await run(() => api(`/api/scheduled-jobs/${encodeURIComponent(job.id)}`, { method: "DELETE" }))) onChanged();
  };
  return (
    <tr data-job={job.id}>
      <td class="job-name">{job.name}</td>
      <td>
        <span class="mono">{job.cron}</span> <span class="muted">{job.timezone}</span>
      </td>
      <td>{job.model}</td>
      <td>{job.node ?? <span class="muted">any</span>}</td>
      <td>{actionText(job.action)}</td>
      <td>{job.enabled ? when(job.nextRun) : <span class="muted">disabled</span>}</td>
      <td>
        {job.lastRun ? (
          <span class={job.lastRun.status === "failed" ? "error" : undefined} title={job.lastRun.error ?? undefined}>
            {job.lastRun.status}, {when(job.lastRun.at)}
          </span>
        ) : (
          <span class="muted">not yet</span>
        )}
      </td>
      <td class="row-actions">
        <button type="button" onClick={onEdit} aria-label={`Edit ${job.name}`}>
          Edit
        </button>
        <button type="button" onClick={toggle} disabled={busy} aria-label={`${job.enabled ? "Disable" : "Enable"} ${job.name}`}>
          {job.enabled ? "Disable" : "Enable"}
        </button>
        <button type="button" onClick={remove} disabled={busy} aria-label={`Delete ${job.name}`}>
          Delete
        </button>
        <Alert text={error} inline />
      </td>
    </tr>
  );
}

/** Jobs that Docker containers' labels declare; read when opened, imported on a click. */
function FromDocker({ onImported }: { onImported: () => void }) {
  const [open, setOpen] = useState(false);
  const found = useApi<Discovered>(open ? "/api/scheduled-jobs/discover" : null);
  const [outcome, setOutcome] = useState<Imported>();
  const { busy, error, run } = useAction();
  const importAll = () =>
    run(async () => {
      setOutcome(await api<Imported>("/api/scheduled-jobs/discover", { method: "POST", body: {} }));
      found.reload();
      onImported();
    });
  const data = found.data;
  return (
    <details class="card discover" onToggle={(e) => setOpen((e.currentTarget as HTMLDetailsElement).open)}>
      <summary>Jobs declared by Docker containers</summary>
      <Alert text={found.error ?? error} />
      {data?.reason && <p class="muted">{data.reason}</p>}
      {data && data.jobs.length > 0 && (
        <>
          <div class="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">Container</th>
                  <th scope="col">Job</th>
                  <th scope="col">Imported</th>
                </tr>
              </thead>
              <tbody>
                {data.jobs.map((d) => (
                  <tr key={d.containerId}>
                    <td>{d.container}</td>
                    <td>{d.job ? `${d.job.name ?? d.container}: ${d.job.cron ?? ""} ${d.job.model ?? ""}` : <span class="error">{d.problem}</span>}</td>
                    <td>{d.importedAs ? "yes" : "no"}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <button type="button" onClick={importAll} disabled={busy}>
            Import the new ones
          </button>
        </>
      )}
      {data && data.jobs.length === 0 && !data.reason && <p class="muted">No container on {data.dockerHost} declares a job.</p>}
      {outcome && (
        <p role="status">
          Imported {outcome.imported.length}; passed over {outcome.skipped.length}
          {outcome.skipped.length > 0 && `: ${outcome.skipped.map((s) => `${s.container} (${s.reason})`).join(", ")}`}.
        </p>
      )}
    </details>
  );
}

/** Scheduled jobs: the list, a form to make or change one, the timeline of their runs with its conflicts, and jobs found on Docker. */
export function Schedules() {
  const jobs = useApi<{ jobs: JobView[] }>("/api/scheduled-jobs", 30_000);
  const [hours, setHours] = useState(24);
  const timeline = useApi<TimelineView>(`/api/scheduled-jobs/timeline?hours=${hours}`, 60_000);
  const queues = useApi<{ queues: Array<{ name: string; source: string }> }>("/api/cli/queues");
  const nodes = useApi<{ nodes: Array<{ id: string }> }>("/api/v1/nodes");
  const models = useApi<{ data: Array<{ id: string }> }>("/v1/models");
  const [editing, setEditing] = useState<JobView>();
  const changed = () => {
    jobs.reload();
    timeline.reload();
  };
  const problem = jobs.error ?? timeline.error;
  return (
    <section aria-labelledby="schedules-title" class="schedules-page">
      <div class="section-head">
        <h2 id="schedules-title">Schedules</h2>
      </div>
      <Alert text={problem} />
      <section class="card" aria-labelledby="timeline-title">
        <div class="section-head">
          <h3 id="timeline-title">Timeline</h3>
          <label class="inline">
            Next
            <select value={String(hours)} onInput={(e) => setHours(Number((e.currentTarget as HTMLSelectElement).value))}>
              {HOURS.map((h) => (
                <option key={h} value={String(h)}>
                  {h < 48 ? `${h} hours` : `${h / 24} days`}
                </option>
              ))}
            </select>
          </label>
        </div>
        {timeline.data ? <Timeline data={timeline.data} /> : <p class="muted">Loading…</p>}
      </section>
      <div class="table-wrap">
        <table class="jobs">
          <thead>
            <tr>
              <th scope="col">Job</th>
              <th scope="col">When</th>
              <th scope="col">Model</th>
              <th scope="col">Node</th>
              <th scope="col">Each run</th>
              <th scope="col">Next run</th>
              <th scope="col">Last run</th>
              <th scope="col">
                <span class="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {jobs.data?.jobs.map((job) => (
              <JobRow key={job.id} job={job} onEdit={() => setEditing(job)} onChanged={changed} />
            ))}
            {jobs.data?.jobs.length === 0 && (
              <tr>
                <td colSpan={8} class="muted">
                  No scheduled jobs yet.
                </td>
              </tr>
            )}
          </tbody>
        </table>
      </div>
      <JobForm
        key={editing?.id ?? "new"}
        editing={editing}
        queues={(queues.data?.queues ?? []).filter((q) => q.source !== "built-in").map((q) => q.name)}
        nodes={(nodes.data?.nodes ?? []).map((n) => n.id)}
        models={(models.data?.data ?? []).map((m) => m.id)}
        onSaved={() => {
          setEditing(undefined);
          changed();
        }}
        onCancel={() => setEditing(undefined)}
      />
      <FromDocker onImported={changed} />
    </section>
  );
}

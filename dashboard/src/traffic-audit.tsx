import { useState } from "preact/hooks";
import { Alert } from "./controls.js";
import { millis, when } from "./format.js";
import { useApi } from "./hooks.js";
import type { Callers } from "./traffic-callers.js";
import { StatusCode } from "./traffic-live.js";
import type { RequestPage } from "./traffic-types.js";

/** The filters /api/requests takes (src/observe/audit-routes.ts RequestsQuery), as the form holds them. */
const FILTERS = ["model", "server", "status", "key", "user", "source"] as const;
type Filters = Partial<Record<(typeof FILTERS)[number] | "limit", string>>;
const LIMITS = ["10", "25", "50", "100", "500"];

function query(hours: number, filters: Filters, cursor: string | undefined): string {
  const q = new URLSearchParams({ hours: String(hours), limit: filters.limit ?? "50" });
  for (const name of FILTERS) if (filters[name]) q.set(name, filters[name] as string);
  if (cursor) q.set("cursor", cursor);
  return `/api/requests?${q}`;
}

/** Text fields with suggestions (what the usage answer has seen); the user is picked by name. */
function FilterForm({ callers, suggest, onApply }: { callers: Callers; suggest: Suggestions; onApply: (f: Filters) => void }) {
  const submit = (event: SubmitEvent) => {
    event.preventDefault();
    const data = new FormData(event.currentTarget as HTMLFormElement);
    const filters: Filters = {};
    for (const name of [...FILTERS, "limit"] as const) {
      const value = String(data.get(name) ?? "").trim();
      if (value) filters[name] = value;
    }
    onApply(filters);
  };
  const text = (name: "model" | "server" | "key" | "source", label: string, list: string[]) => (
    <label>
      {label}
      <input name={name} list={`audit-${name}s`} maxLength={256} autoComplete="off" />
      <datalist id={`audit-${name}s`}>
        {list.map((v) => (
          <option key={v} value={v} />
        ))}
      </datalist>
    </label>
  );
  return (
    <form class="audit-filters" onSubmit={submit} onReset={() => onApply({})} aria-label="Filter the audit log">
      {text("model", "Model", suggest.models)}
      {text("server", "Server", suggest.servers)}
      <label>
        Status
        <input name="status" type="number" min={100} max={599} inputMode="numeric" />
      </label>
      {text("key", "Key id", suggest.keys)}
      <label>
        User
        <select name="user">
          <option value="">Anyone</option>
          {callers.users.map((u) => (
            <option key={u.id} value={u.id}>
              {u.username}
            </option>
          ))}
        </select>
      </label>
      {text("source", "Source", suggest.sources)}
      <label>
        Rows a page
        <select name="limit" defaultValue="50">
          {LIMITS.map((n) => (
            <option key={n}>{n}</option>
          ))}
        </select>
      </label>
      <div class="audit-buttons">
        <button type="submit" class="primary">
          Filter
        </button>
        <button type="reset">Clear</button>
      </div>
    </form>
  );
}

export interface Suggestions {
  models: string[];
  servers: string[];
  keys: string[];
  sources: string[];
}

/** The audit log (/api/requests): newest first, filtered, a page at a time by its cursor. */
export function AuditLog({ hours, callers, suggest }: { hours: number; callers: Callers; suggest: Suggestions }) {
  const [filters, setFilters] = useState<Filters>({});
  /** The cursors of the pages before this one, and this one's (undefined: the first page); another window starts again. */
  const [paging, setPaging] = useState<{ hours: number; cursors: Array<string | undefined> }>({ hours, cursors: [undefined] });
  const cursors = paging.hours === hours ? paging.cursors : [undefined];
  const setCursors = (next: Array<string | undefined>) => setPaging({ hours, cursors: next });
  const cursor = cursors[cursors.length - 1];
  const { data, error } = useApi<RequestPage>(query(hours, filters, cursor));
  const apply = (f: Filters) => {
    setFilters(f);
    setCursors([undefined]);
  };
  return (
    <section class="card" aria-labelledby="audit-title">
      <h3 id="audit-title">Audit log</h3>
      <FilterForm callers={callers} suggest={suggest} onApply={apply} />
      <Alert text={error} />
      <div class="table-wrap">
        <table class="audit">
          <thead>
            <tr>
              <th scope="col">Time</th>
              <th scope="col">Model</th>
              <th scope="col">Server</th>
              <th scope="col">Caller</th>
              <th scope="col">Status</th>
              <th scope="col">Duration</th>
              <th scope="col">TTFT</th>
              <th scope="col">Tokens in / out</th>
              <th scope="col">Route</th>
              <th scope="col">Retries</th>
              <th scope="col">Error</th>
            </tr>
          </thead>
          <tbody>
            {data?.requests.map((r) => (
              <tr key={r.id} data-request={r.id}>
                <td class="time">{when(r.time)}</td>
                <td class="mono model">{r.model ?? "–"}</td>
                <td>{r.server ?? "–"}</td>
                <td class="caller">{callers.name(r)}</td>
                <td>
                  <StatusCode status={r.status} />
                </td>
                <td>{millis(r.latency_ms)}</td>
                <td>{millis(r.ttft_ms)}</td>
                <td>
                  {r.tokens_in ?? "–"} / {r.tokens_out ?? "–"}
                </td>
                <td>{r.route ? `${r.route}${r.loaded === false ? " (cold)" : ""}` : "–"}</td>
                <td>{r.retries ? `${r.retries} (${r.retry_reasons.join(", ")})` : "0"}</td>
                <td class="audit-error">{r.error ?? ""}</td>
              </tr>
            ))}
            {data?.requests.length === 0 && (
              <tr>
                <td colSpan={11} class="muted">
                  No requests match.
                </td>
              </tr>
            )}
          </tbody>
        </table>
      </div>
      <nav class="audit-pager" aria-label="Pages of the audit log">
        <button type="button" disabled={cursors.length === 1} onClick={() => setCursors(cursors.slice(0, -1))}>
          Previous page
        </button>
        <span class="muted" aria-live="polite">
          Page {cursors.length}
        </span>
        <button type="button" disabled={!data?.next_cursor} onClick={() => data?.next_cursor && setCursors([...cursors, data.next_cursor])}>
          Next page
        </button>
      </nav>
    </section>
  );
}

import { Alert } from "./controls.js";
import { millis, when } from "./format.js";
import { useApi } from "./hooks.js";
import type { Callers } from "./traffic-callers.js";
import type { InFlight, RequestPage } from "./traffic-types.js";

const EVERY_MS = 2_000;
/** The feed's length: requests in flight first, then the latest finished ones. */
const SHOWN = 50;

interface FeedRow {
  id: string;
  answering: boolean;
  time: string;
  model: string | null;
  server: string | null;
  caller: string;
  status: number | null;
  ms: number;
}

/**
 * Requests being answered now (/api/distributed/requests) above the ones that just finished
 * (the newest rows of /api/requests, written within a second of their end), both polled: plain
 * fetches, so a session cookie and an API key sign-in work alike. The list is bounded and sits
 * in a box of fixed height, so new rows never push the page around.
 */
export function LiveFeed({ callers }: { callers: Callers }) {
  const now = useApi<{ requests: InFlight[] }>("/api/distributed/requests", EVERY_MS);
  const recent = useApi<RequestPage>(`/api/requests?hours=1&limit=${SHOWN}`, EVERY_MS);
  const answering = (now.data?.requests ?? []).slice().sort((a, b) => b.started_at.localeCompare(a.started_at));
  const inFlight = new Set(answering.map((r) => r.id));
  const rows: FeedRow[] = [
    ...answering.map((r) => ({ id: r.id, answering: true, time: r.started_at, model: r.model, server: r.node, caller: callers.name({ key_id: r.key_id }), status: null, ms: r.elapsed_ms })),
    ...(recent.data?.requests ?? [])
      .filter((r) => !inFlight.has(r.id))
      .map((r) => ({ id: r.id, answering: false, time: r.time, model: r.model, server: r.server, caller: callers.name(r), status: r.status, ms: r.latency_ms })),
  ].slice(0, SHOWN);
  const error = now.error ?? recent.error;
  return (
    <section class="card" aria-labelledby="live-title">
      <div class="section-head">
        <h3 id="live-title">Live</h3>
        <span class="muted" aria-live="polite">
          {now.data ? `${answering.length} in flight` : "Loading…"}
        </span>
      </div>
      <Alert text={error} />
      <div class="table-wrap live-feed" tabIndex={0} role="region" aria-label="Requests in flight and just finished">
        <table>
          <thead>
            <tr>
              <th scope="col">State</th>
              <th scope="col">Model</th>
              <th scope="col">Server</th>
              <th scope="col">Caller</th>
              <th scope="col">Status</th>
              <th scope="col">Duration</th>
              <th scope="col">Started / ended</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr key={r.id} data-request={r.id} class={r.answering ? "answering" : undefined}>
                <td>{r.answering ? <span class="badge state-answering">answering</span> : "finished"}</td>
                <td class="mono model">{r.model ?? "–"}</td>
                <td>{r.server ?? "–"}</td>
                <td class="caller">{r.caller}</td>
                <td>{r.status === null ? "–" : <StatusCode status={r.status} />}</td>
                <td>{millis(r.ms)}</td>
                <td class="time">{when(r.time)}</td>
              </tr>
            ))}
            {now.data && recent.data && rows.length === 0 && (
              <tr>
                <td colSpan={7} class="muted">
                  No requests in the last hour.
                </td>
              </tr>
            )}
          </tbody>
        </table>
      </div>
    </section>
  );
}

export function StatusCode({ status }: { status: number }) {
  return <span class={status >= 400 ? "status-code bad" : "status-code ok"}>{status}</span>;
}

import { BarChart, LineChart, type Series } from "./charts.js";
import { millis, percent } from "./format.js";
import type { Analytics, Usage } from "./traffic-types.js";

/** Models and server·model pairs the bar charts show at most (the tables list them all). */
const TOP = 8;
/** Models the tokens-over-time chart draws a line for at most: the ones with the most tokens. */
const MAX_SERIES = 5;
const count = (n: number) => n.toLocaleString();
const ratio = (hits: number, cold: number) => (hits + cold === 0 ? null : hits / (hits + cold));
const spread = (s: { p50: number; p95: number } | null) => (s ? `${millis(s.p50)} / ${millis(s.p95)}` : "–");

/**
 * Every bucket of the window, the empty ones too (the API leaves them out): a chart's x axis is time.
 * `slot` is where a bucket's start falls among them.
 */
export function timeline(analytics: Analytics): { labels: string[]; slots: Array<Analytics["buckets"][number] | undefined>; slot: (time: string) => number } {
  const size = analytics.bucket_seconds * 1000;
  const number = (time: string) => Math.floor(Date.parse(time) / size);
  const first = number(analytics.since);
  const last = Math.max(first, Math.floor((Date.parse(analytics.since) + analytics.hours * 3_600_000) / size), ...analytics.buckets.map((b) => number(b.time)));
  const byNumber = new Map(analytics.buckets.map((b) => [number(b.time), b]));
  const long = analytics.hours > 24;
  const labels: string[] = [];
  const slots: Array<Analytics["buckets"][number] | undefined> = [];
  for (let i = first; i <= last; i++) {
    const at = new Date(i * size);
    labels.push(long ? at.toLocaleDateString(undefined, { month: "short", day: "numeric" }) : at.toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" }));
    slots.push(byNumber.get(i));
  }
  return { labels, slots, slot: (time) => number(time) - first };
}

/** Tokens (in and out) of the models with the most, one series each, per bucket. */
function tokenSeries(analytics: Analytics, count: number, slot: (time: string) => number): Series[] {
  const totals = new Map<string, number>();
  for (const b of analytics.model_buckets) totals.set(b.model, (totals.get(b.model) ?? 0) + b.tokens_in + b.tokens_out);
  const top = [...totals].filter(([, n]) => n > 0).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, MAX_SERIES).map(([model]) => model);
  return top.map((model) => {
    const values: number[] = new Array(count).fill(0);
    for (const b of analytics.model_buckets) if (b.model === model && slot(b.time) >= 0 && slot(b.time) < count) values[slot(b.time)] += b.tokens_in + b.tokens_out;
    return { name: model, values };
  });
}

function Totals({ analytics }: { analytics: Analytics }) {
  const t = analytics.totals;
  const r = analytics.routes;
  const tiles: Array<[string, string]> = [
    ["Requests", count(t.requests)],
    ["Errors", count(t.errors)],
    ["Loaded-hit ratio", percent(t.loaded_hit_ratio)],
    ["Cold loads", count(t.cold_loads)],
    ["Retries", `${count(t.retries)} (${count(t.retried_requests)} requests)`],
    ["Queue wait, average", millis(t.queue_ms_avg)],
    ["Routes", `best ${r.best} · pin ${r.pin} · affinity ${r.affinity} · fallback ${r.fallback}`],
  ];
  return (
    <dl class="traffic-totals">
      {tiles.map(([name, value]) => (
        <div key={name}>
          <dt>{name}</dt>
          <dd>{value}</dd>
        </div>
      ))}
      {analytics.retry_reasons.length > 0 && (
        <div>
          <dt>Retry reasons</dt>
          <dd>{analytics.retry_reasons.map((x) => `${x.reason} ${x.count}`).join(", ")}</dd>
        </div>
      )}
    </dl>
  );
}

function Charts({ usage, analytics }: { usage: Usage; analytics: Analytics }) {
  const { labels, slots, slot } = timeline(analytics);
  const tokens = tokenSeries(analytics, slots.length, slot);
  const models = usage.models
    .slice()
    .sort((a, b) => b.tokens_in + b.tokens_out - (a.tokens_in + a.tokens_out))
    .slice(0, TOP);
  const pairs = analytics.nodes.filter((n) => n.latency_ms).slice(0, TOP);
  return (
    <div class="traffic-charts">
      <div class="traffic-chart" data-chart="requests">
        <h4>Requests</h4>
        <LineChart label="Requests and errors over time" labels={labels} series={[{ name: "Requests", values: slots.map((b) => b?.requests ?? 0) }, { name: "Errors", values: slots.map((b) => b?.errors ?? 0) }]} />
      </div>
      <div class="traffic-chart" data-chart="latency">
        <h4>Latency, average per bucket</h4>
        <LineChart
          label="Latency and time to first token over time"
          labels={labels}
          format={millis}
          series={[
            { name: "Latency", values: slots.map((b) => b?.latency_ms_avg ?? null) },
            { name: "Time to first token", values: slots.map((b) => b?.ttft_ms_avg ?? null) },
            { name: "Queue wait", values: slots.map((b) => b?.queue_ms_avg ?? null) },
          ]}
        />
      </div>
      <div class="traffic-chart" data-chart="loaded">
        <h4>Loaded-hit ratio</h4>
        <LineChart label="Share of requests sent to a server with the model loaded, over time" labels={labels} max={1} format={percent} series={[{ name: "Loaded hits", values: slots.map((b) => (b ? ratio(b.loaded_hits, b.cold_loads) : null)) }]} />
      </div>
      <div class="traffic-chart" data-chart="tokens-over-time">
        <h4>Tokens per model over time</h4>
        {tokens.length ? (
          <LineChart label="Tokens in and out per model over time, the models with the most" labels={labels} format={count} series={tokens} />
        ) : (
          <p class="muted">No tokens in this window.</p>
        )}
      </div>
      <div class="traffic-chart" data-chart="tokens">
        <h4>Tokens per model, in the window</h4>
        {models.length ? (
          <BarChart label="Tokens in and out per model" series={["Tokens in", "Tokens out"]} format={count} items={models.map((m) => ({ label: m.model, values: [m.tokens_in, m.tokens_out] }))} />
        ) : (
          <p class="muted">No tokens in this window.</p>
        )}
      </div>
      <div class="traffic-chart" data-chart="percentiles">
        <h4>Latency per server and model</h4>
        {pairs.length ? (
          <BarChart
            label="Latency p50 and p95 per server and model"
            series={["p50", "p95"]}
            format={millis}
            items={pairs.map((n) => ({ label: `${n.server} · ${n.model ?? "–"}`, values: [n.latency_ms?.p50 ?? 0, n.latency_ms?.p95 ?? 0] }))}
          />
        ) : (
          <p class="muted">No answered requests in this window.</p>
        )}
      </div>
    </div>
  );
}

function ModelTable({ usage }: { usage: Usage }) {
  return (
    <div class="table-wrap">
      <table class="usage-models">
        <caption>Usage per model</caption>
        <thead>
          <tr>
            <th scope="col">Model</th>
            <th scope="col">Requests</th>
            <th scope="col">Errors</th>
            <th scope="col">Tokens in</th>
            <th scope="col">Tokens out</th>
            <th scope="col">Busy</th>
            <th scope="col">Requests an hour</th>
            <th scope="col">Cold loads</th>
            <th scope="col">Loads</th>
          </tr>
        </thead>
        <tbody>
          {usage.models.map((m) => (
            <tr key={m.model} data-model={m.model}>
              <th scope="row" class="mono model">
                {m.model}
              </th>
              <td>{count(m.requests)}</td>
              <td>{count(m.errors)}</td>
              <td class="tokens-in">{count(m.tokens_in)}</td>
              <td class="tokens-out">{count(m.tokens_out)}</td>
              <td>{millis(m.busy_ms)}</td>
              <td>{m.requests_per_hour.toFixed(1)}</td>
              <td>{count(m.cold_loads)}</td>
              <td>{count(m.loads)}</td>
            </tr>
          ))}
          {usage.models.length === 0 && (
            <tr>
              <td colSpan={9} class="muted">
                No requests in this window.
              </td>
            </tr>
          )}
        </tbody>
      </table>
    </div>
  );
}

function NodeTable({ analytics }: { analytics: Analytics }) {
  return (
    <div class="table-wrap">
      <table class="usage-nodes">
        <caption>Routing and latency per server and model (p50 / p95)</caption>
        <thead>
          <tr>
            <th scope="col">Server</th>
            <th scope="col">Model</th>
            <th scope="col">Requests</th>
            <th scope="col">Errors</th>
            <th scope="col">Loaded hits</th>
            <th scope="col">Cold loads</th>
            <th scope="col">Loaded-hit ratio</th>
            <th scope="col">Latency</th>
            <th scope="col">TTFT</th>
            <th scope="col">Queue wait</th>
          </tr>
        </thead>
        <tbody>
          {analytics.nodes.map((n) => (
            <tr key={`${n.server} ${n.model}`}>
              <th scope="row">{n.server}</th>
              <td class="mono model">{n.model ?? "–"}</td>
              <td>{count(n.requests)}</td>
              <td>{count(n.errors)}</td>
              <td>{count(n.loaded_hits)}</td>
              <td>{count(n.cold_loads)}</td>
              <td>{percent(n.loaded_hit_ratio)}</td>
              <td>{spread(n.latency_ms)}</td>
              <td>{spread(n.ttft_ms)}</td>
              <td>{spread(n.queue_ms)}</td>
            </tr>
          ))}
          {analytics.nodes.length === 0 && (
            <tr>
              <td colSpan={10} class="muted">
                No routed requests in this window.
              </td>
            </tr>
          )}
        </tbody>
      </table>
    </div>
  );
}

function BucketTable({ analytics }: { analytics: Analytics }) {
  return (
    <details>
      <summary>The numbers over time</summary>
      <div class="table-wrap">
        <table class="usage-buckets">
          <caption>Per {millis(analytics.bucket_seconds * 1000)} bucket, buckets with requests only</caption>
          <thead>
            <tr>
              <th scope="col">From</th>
              <th scope="col">Requests</th>
              <th scope="col">Errors</th>
              <th scope="col">Loaded-hit ratio</th>
              <th scope="col">Latency</th>
              <th scope="col">TTFT</th>
              <th scope="col">Queue wait</th>
            </tr>
          </thead>
          <tbody>
            {analytics.buckets.map((b) => (
              <tr key={b.time}>
                <th scope="row">{new Date(b.time).toLocaleString()}</th>
                <td>{count(b.requests)}</td>
                <td>{count(b.errors)}</td>
                <td>{percent(ratio(b.loaded_hits, b.cold_loads))}</td>
                <td>{millis(b.latency_ms_avg)}</td>
                <td>{millis(b.ttft_ms_avg)}</td>
                <td>{millis(b.queue_ms_avg)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </details>
  );
}

/** Usage (/api/usage) and routing analytics (/api/analytics) over the window: charts, and their numbers as tables. */
export function UsageView({ usage, analytics }: { usage?: Usage; analytics?: Analytics }) {
  if (!usage || !analytics) return <p class="muted">Loading…</p>;
  return (
    <>
      <Totals analytics={analytics} />
      <Charts usage={usage} analytics={analytics} />
      <ModelTable usage={usage} />
      <NodeTable analytics={analytics} />
      <BucketTable analytics={analytics} />
    </>
  );
}

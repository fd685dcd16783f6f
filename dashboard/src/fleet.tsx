import { useState } from "preact/hooks";
import { send } from "./api.js";
import { Sparkline } from "./charts.js";
import { Alert } from "./controls.js";
import "./fleet.css";
import { percent } from "./format.js";
import { connectionText, useNodes, type FleetNode } from "./live.js";
import { useNodeHistory, type Sample } from "./node-history.js";


type Measure = "cpu" | "memory" | "vram" | "disk";
const MEASURES: Array<{ key: Measure; name: string }> = [
  { key: "cpu", name: "CPU" },
  { key: "memory", name: "Memory" },
  { key: "vram", name: "VRAM" },
  { key: "disk", name: "Disk" },
];

function Gauge({ name, values, now, text, max }: { name: string; values: number[]; now: number | null; text: string; max?: number }) {
  return (
    <div class="gauge">
      <span class="gauge-name">{name}</span>
      <span class="gauge-now">{now === null ? "no data" : text}</span>
      <Sparkline values={values} max={max} label={`${name}, recent: ${now === null ? "no data" : text}`} />
    </div>
  );
}

/** The node's machine and its requests in flight, as small lines of their recent values; "no data" where nothing is reported. */
function Gauges({ node, samples }: { node: FleetNode; samples: Sample[] }) {
  const series = (key: Measure | "in_flight") => samples.flatMap((s) => (s[key] === null || s[key] === undefined ? [] : [s[key] as number]));
  const machine = MEASURES.some(({ key }) => (node.resources[key] ?? null) !== null || series(key).length > 0);
  const flights = series("in_flight");
  return (
    <div class="gauges">
      {machine ? (
        MEASURES.map(({ key, name }) => {
          const values = series(key);
          const now = node.resources[key] ?? null;
          // CPU load per core can pass 1: the line's top is 1 or the highest load seen.
          return <Gauge key={key} name={name} values={values} now={now} text={percent(now)} max={key === "cpu" ? Math.max(1, ...values) : 1} />;
        })
      ) : (
        <p class="muted gauge-none">Machine: no data</p>
      )}
      <Gauge name="In flight" values={flights} now={node.in_flight} text={String(node.in_flight)} max={Math.max(1, node.max_concurrency ?? 0, ...flights)} />
    </div>
  );
}

function NodeCard({ node, admin, samples }: { node: FleetNode; admin: boolean; samples: Sample[] }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const verb = node.drained ? "undrain" : "drain";
  const toggle = async () => {
    setBusy(true);
    setError(undefined);
    await send(`/api/v1/nodes/${encodeURIComponent(node.id)}/${verb}`, { method: "POST" }).catch((err: Error) => setError(err.message));
    setBusy(false);
  };
  return (
    <li class="card node" data-node={node.id}>
      <div class="node-head">
        <h3>{node.id}</h3>
        <span class={`badge status-${node.status}`}>{node.status}</span>
      </div>
      <dl>
        <dt>Address</dt>
        <dd class="mono">{node.address}</dd>
        <dt>Kind</dt>
        <dd>
          {node.kind} · {node.api}
        </dd>
        <dt>In flight</dt>
        <dd class="in-flight">
          {node.in_flight}
          {node.max_concurrency !== null && ` / ${node.max_concurrency}`}
        </dd>
        <dt>Models</dt>
        <dd class="models">{node.models.length ? node.models.join(", ") : "none"}</dd>
        <dt>Loaded</dt>
        <dd class="loaded">{node.loaded.length ? node.loaded.join(", ") : "none"}</dd>
        {node.last_error && (
          <>
            <dt>Last error</dt>
            <dd>{node.last_error}</dd>
          </>
        )}
      </dl>
      <Gauges node={node} samples={samples} />
      {admin && (
        <button type="button" onClick={toggle} disabled={busy} aria-label={`${verb === "drain" ? "Drain" : "Undrain"} ${node.id}`}>
          {verb === "drain" ? "Drain" : "Undrain"}
        </button>
      )}
      <Alert text={error} />
    </li>
  );
}

export function Fleet({ admin }: { admin: boolean }) {
  const { history, observe } = useNodeHistory();
  const { nodes, connection, problem } = useNodes(observe);
  const list = [...nodes.values()].sort((a, b) => a.id.localeCompare(b.id));
  return (
    <section aria-labelledby="fleet-title">
      <div class="section-head">
        <h2 id="fleet-title">Fleet</h2>
        <span class={`connection ${connection}`} aria-live="polite">
          {connectionText(connection)}
        </span>
      </div>
      <Alert text={problem} />
      {connection === "live" && list.length === 0 && <p class="muted">No nodes yet: add a server with --server URL, the admin API, or dial in a worker.</p>}
      <ul class="nodes">
        {list.map((node) => (
          <NodeCard key={node.id} node={node} admin={admin} samples={history.get(node.id) ?? []} />
        ))}
      </ul>
    </section>
  );
}

import { useEffect, useState } from "preact/hooks";
import { send, sseEvents } from "./api.js";

/** A node as /api/state and its stream describe it (src/fleet/node-routes.ts NodeView). */
export interface FleetNode {
  id: string;
  status: "active" | "draining" | "drained" | "offline";
  address: string;
  kind: string;
  api: string;
  models: string[];
  loaded: string[];
  in_flight: number;
  max_concurrency: number | null;
  drained: boolean;
  last_error: string | null;
}

type Connection = "connecting" | "live" | "reconnecting";
const RETRY_MS = 2_000;

/** Follows /api/state/stream: a snapshot, then one message per node change, until unmounted. */
function useNodes(): { nodes: Map<string, FleetNode>; connection: Connection; problem?: string } {
  const [nodes, setNodes] = useState(new Map<string, FleetNode>());
  const [connection, setConnection] = useState<Connection>("connecting");
  const [problem, setProblem] = useState<string>();

  useEffect(() => {
    const stop = new AbortController();
    const follow = async () => {
      const res = await send("/api/state/stream", { signal: stop.signal });
      setConnection("live");
      setProblem(undefined);
      for await (const { event, data } of sseEvents(res)) {
        const message = JSON.parse(data);
        if (event === "snapshot") setNodes(new Map((message.nodes as FleetNode[]).map((n) => [n.id, n])));
        else if (event === "node") setNodes((now) => new Map(now).set(message.node.id, message.node));
        else if (event === "node_removed") setNodes((now) => (now.delete(message.id) ? new Map(now) : now));
      }
    };
    const loop = async () => {
      while (!stop.signal.aborted) {
        await follow().catch((err: Error) => setProblem(err.message));
        if (stop.signal.aborted) return;
        setConnection("reconnecting");
        await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
      }
    };
    void loop();
    return () => stop.abort();
  }, []);
  return { nodes, connection, problem };
}

function NodeCard({ node, admin }: { node: FleetNode; admin: boolean }) {
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
      {admin && (
        <button type="button" onClick={toggle} disabled={busy} aria-label={`${verb === "drain" ? "Drain" : "Undrain"} ${node.id}`}>
          {verb === "drain" ? "Drain" : "Undrain"}
        </button>
      )}
      {error && (
        <p role="alert" class="error">
          {error}
        </p>
      )}
    </li>
  );
}

export function Fleet({ admin }: { admin: boolean }) {
  const { nodes, connection, problem } = useNodes();
  const list = [...nodes.values()].sort((a, b) => a.id.localeCompare(b.id));
  return (
    <section aria-labelledby="fleet-title">
      <div class="section-head">
        <h2 id="fleet-title">Fleet</h2>
        <span class={`connection ${connection}`} aria-live="polite">
          {connection === "live" ? "Live" : connection === "connecting" ? "Connecting…" : "Reconnecting…"}
        </span>
      </div>
      {problem && (
        <p role="alert" class="error">
          {problem}
        </p>
      )}
      {connection === "live" && list.length === 0 && <p class="muted">No nodes yet: add a server with --server URL, the admin API, or dial in a worker.</p>}
      <ul class="nodes">
        {list.map((node) => (
          <NodeCard key={node.id} node={node} admin={admin} />
        ))}
      </ul>
    </section>
  );
}

import { useEffect, useRef, useState } from "preact/hooks";
import { api } from "./api.js";
import { Alert } from "./controls.js";
import { bytes } from "./format.js";
import { useApi } from "./hooks.js";
import { connectionText, useLiveState, type FleetNode, type Transfer } from "./live.js";
import { MigrateForm, modelPath, PullForm, type Act, type FleetModel } from "./model-forms.js";
import "./models.css";
import { TransferList } from "./transfers.js";

/** Desired against actual copies (src/fleet/model-routes.ts ReplicationState). */
interface Replication {
  name: string;
  desired: number | null;
  actual: number;
  nodes: string[];
  transferring: string[];
  status: "ok" | "under" | "over" | "unmanaged";
}

interface RebalanceAction {
  model: string;
  action: "pull" | "delete";
  node: string;
  transfer_id?: string;
  error?: string;
}

/** `llama3` and `llama3:latest` are one model (src/fleet/model-name.ts modelKey). */
function modelKey(name: string): string {
  const lower = name.trim().toLowerCase();
  return lower.indexOf(":", lower.lastIndexOf("/") + 1) === -1 ? `${lower}:latest` : lower;
}

/** Nodes a model can be pulled onto: up, not drained, speaking Ollama's API. */
const pullable = (nodes: FleetNode[]) => nodes.filter((n) => n.status === "active" && n.api === "ollama");

function describe(action: RebalanceAction): string {
  if (action.error) return `${action.action === "pull" ? "Could not pull" : "Could not delete"} ${action.model}${action.node ? ` (${action.node})` : ""}: ${action.error}`;
  return action.action === "pull" ? `Pulling ${action.model} onto ${action.node}` : `Deleted ${action.model} from ${action.node}`;
}

/** Keeps the transfers shown: those the list answered, then each one the stream sends; a late answer never undoes a newer state. */
function useTransfers(): { transfers: Map<string, Transfer>; add: (list: Transfer[]) => void } {
  const [transfers, setTransfers] = useState(new Map<string, Transfer>());
  const newer = (t: Transfer, old?: Transfer) => !old || (old.status === "running" && t.updated_at >= old.updated_at);
  const add = (list: Transfer[]) => setTransfers((now) => list.reduce((next, t) => (newer(t, next.get(t.id)) ? next.set(t.id, t) : next), new Map(now)));
  useEffect(() => {
    api<{ transfers: Transfer[] }>("/api/v1/transfers").then(
      (answer) => add(answer.transfers),
      () => undefined,
    );
  }, []);
  return { transfers, add };
}

function ModelRow({ model, replication, admin, act, onDeleted }: { model: FleetModel; replication?: Replication; admin: boolean; act: Act; onDeleted: (text: string) => void }) {
  // What the admin is typing stays until it is set; until then the field follows the fleet.
  const [wanted, setWanted] = useState<string>();
  const setCopies = async (event: SubmitEvent) => {
    event.preventDefault();
    const replicas = Number(((event.currentTarget as HTMLFormElement).elements.namedItem("replicas") as HTMLInputElement).value);
    if (await act(() => api(`/api/distributed/models/${encodeURIComponent(model.name)}/replicas`, { method: "PUT", body: { replicas } }))) setWanted(undefined);
  };
  const remove = async () => {
    if (!confirm(`Delete ${model.name} from ${model.nodes.join(", ") || "every node"}? The copies are gone for good.`)) return;
    await act(async () => {
      const done = await api<{ model: string; deleted_from: string[] }>(modelPath(model.name), { method: "DELETE" });
      onDeleted(`Deleted ${done.model} from ${done.deleted_from.join(", ")}.`);
    });
  };
  const desired = replication?.desired ?? model.desired_replicas;
  const status = replication?.status ?? "unmanaged";
  return (
    <tr data-model={model.name}>
      <th scope="row" class="mono">
        {model.name}
      </th>
      <td>{bytes(model.size_bytes)}</td>
      <td class="where">
        {model.nodes.length === 0
          ? "nowhere"
          : model.nodes.map((n) => (
              <span key={n} class="where-node">
                {n}
                {model.loaded_on.includes(n) && <span class="muted"> (loaded)</span>}
              </span>
            ))}
      </td>
      <td class="copies">
        {model.replicas}
        {desired !== null && ` of ${desired}`}
        {replication && replication.transferring.length > 0 && <span class="muted"> (+{replication.transferring.length} coming)</span>}
      </td>
      <td>
        <span class={`badge replication-${status}`}>{status === "ok" ? "as wanted" : status}</span>
      </td>
      {admin && (
        <td class="actions">
          <form class="copies-form" onSubmit={setCopies}>
            <input name="replicas" type="number" min={0} max={1000} required value={wanted ?? String(desired ?? model.replicas)} onInput={(e) => setWanted(e.currentTarget.value)} aria-label={`Copies wanted of ${model.name}`} />
            <button type="submit" aria-label={`Set copies of ${model.name}`}>
              Set
            </button>
          </form>
          {model.nodes.length > 0 && (
            <button type="button" class="danger" onClick={remove} aria-label={`Delete ${model.name}`}>
              Delete
            </button>
          )}
        </td>
      )}
    </tr>
  );
}

export function Models({ admin }: { admin: boolean }) {
  const models = useApi<{ models: FleetModel[] }>("/api/distributed/models", 15_000);
  const replication = useApi<{ models: Replication[] }>("/api/distributed/replication/status", 15_000);
  const { transfers, add } = useTransfers();
  const [nodes, setNodes] = useState(new Map<string, FleetNode>());
  const [error, setError] = useState<string>();
  const [notice, setNotice] = useState<string>();
  const [actions, setActions] = useState<RebalanceAction[]>();
  const holdings = useRef(new Map<string, string>());

  const refresh = () => {
    models.reload();
    replication.reload();
  };
  /** A node's models changed (a pull finished, a copy went): the lists are read again. */
  const sawNode = (node: FleetNode) => {
    const holds = `${node.status}|${node.models.join()}|${node.loaded.join()}`;
    const before = holdings.current.get(node.id);
    holdings.current.set(node.id, holds);
    if (before !== undefined && before !== holds) refresh();
  };
  const { connection, problem } = useLiveState({
    snapshot: (state) => {
      setNodes(new Map(state.nodes.map((n) => [n.id, n])));
      state.nodes.forEach(sawNode);
      add(state.transfers);
    },
    node: (node) => {
      setNodes((now) => new Map(now).set(node.id, node));
      sawNode(node);
    },
    nodeRemoved: (id) => setNodes((now) => (now.has(id) ? new Map([...now].filter(([key]) => key !== id)) : now)),
    transfer: (transfer) => {
      add([transfer]);
      if (transfer.status !== "running") refresh();
    },
  });

  /** Runs an admin action: its answer (a transfer) is shown, its error too; the lists are read again. */
  const act = async (work: () => Promise<unknown>): Promise<boolean> => {
    setError(undefined);
    setNotice(undefined);
    try {
      const answer = await work();
      if (answer && typeof answer === "object" && "percent" in answer) add([answer as Transfer]);
      return true;
    } catch (err) {
      setError((err as Error).message);
      return false;
    } finally {
      refresh();
    }
  };
  const rebalance = () => act(async () => setActions((await api<{ actions: RebalanceAction[] }>("/api/distributed/rebalance", { method: "POST" })).actions));

  const byKey = new Map((replication.data?.models ?? []).map((r) => [modelKey(r.name), r]));
  const list = [...(models.data?.models ?? [])];
  // A model wanted somewhere but on no node yet is listed too.
  for (const r of replication.data?.models ?? []) {
    if (r.actual === 0 && r.desired !== null && !list.some((m) => modelKey(m.name) === modelKey(r.name))) {
      list.push({ name: r.name, replicas: 0, nodes: [], loaded_on: [], size_bytes: null, total_size: null, desired_replicas: r.desired, status: "unavailable" });
    }
  }
  list.sort((a, b) => a.name.localeCompare(b.name));
  const targets = pullable([...nodes.values()].sort((a, b) => a.id.localeCompare(b.id)));
  const loadError = models.error ?? replication.error ?? problem;

  return (
    <section aria-labelledby="models-title" class="models-page">
      <div class="section-head">
        <h2 id="models-title">Models</h2>
        <span class={`connection ${connection}`} aria-live="polite">
          {connectionText(connection)}
        </span>
        {admin && (
          <button type="button" onClick={rebalance}>
            Rebalance
          </button>
        )}
      </div>
      <Alert text={error ?? loadError} />
      {notice && <p role="status">{notice}</p>}
      {actions && (
        <div class="card rebalance-result" role="status" aria-label="What the rebalance did">
          <h3>Rebalance</h3>
          {actions.length === 0 ? (
            <p class="muted">Nothing to do: every model with a wanted number of copies has it.</p>
          ) : (
            <ul class="rebalance">
              {actions.map((a, i) => (
                <li key={i} class={a.error ? "error" : undefined}>
                  {describe(a)}
                </li>
              ))}
            </ul>
          )}
        </div>
      )}
      {admin && (
        <div class="model-forms">
          <PullForm nodes={targets} known={list.map((m) => m.name)} act={act} />
          <MigrateForm models={list.filter((m) => m.nodes.length > 0)} nodes={targets} act={act} />
        </div>
      )}
      <TransferList transfers={[...transfers.values()]} admin={admin} act={act} />
      {models.data && list.length === 0 && <p class="muted">No models on any node yet.</p>}
      <div class="table-wrap">
        <table class="models">
          <thead>
            <tr>
              <th scope="col">Model</th>
              <th scope="col">Size</th>
              <th scope="col">On nodes</th>
              <th scope="col">Copies</th>
              <th scope="col">Replication</th>
              {admin && <th scope="col">Manage</th>}
            </tr>
          </thead>
          <tbody>
            {list.map((m) => (
              <ModelRow key={m.name} model={m} replication={byKey.get(modelKey(m.name))} admin={admin} act={act} onDeleted={setNotice} />
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

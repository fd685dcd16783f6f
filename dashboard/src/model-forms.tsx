import { useState } from "preact/hooks";
import { api } from "./api.js";
import type { FleetNode } from "./live.js";

/** A model across the fleet (src/fleet/model-routes.ts DistributedModel). */
export interface FleetModel {
  name: string;
  replicas: number;
  nodes: string[];
  loaded_on: string[];
  size_bytes: number | null;
  total_size: string | null;
  desired_replicas: number | null;
  status: "ready" | "transferring" | "unavailable";
}

/** Runs an admin action for a form: true when it worked (its error is shown by the page). */
export type Act = (work: () => Promise<unknown>) => Promise<boolean>;

/** A model's name as one path segment: `/` and the rest encoded. */
export const modelPath = (name: string) => `/api/v1/models/${encodeURIComponent(name)}`;

export function PullForm({ nodes, known, act }: { nodes: FleetNode[]; known: string[]; act: Act }) {
  const submit = async (event: SubmitEvent) => {
    event.preventDefault();
    const form = event.currentTarget as HTMLFormElement;
    const model = (form.elements.namedItem("model") as HTMLInputElement).value.trim();
    const node = (form.elements.namedItem("node") as HTMLSelectElement).value;
    if (await act(() => api(`${modelPath(model)}/download`, { method: "POST", body: node ? { node } : {} }))) form.reset();
  };
  return (
    <form class="card model-form" onSubmit={submit} aria-label="Pull a model">
      <label>
        Model to pull
        <input name="model" required list="known-models" placeholder="llama3.2:3b" autocomplete="off" />
      </label>
      <datalist id="known-models">
        {known.map((name) => (
          <option key={name} value={name} />
        ))}
      </datalist>
      <label>
        Onto
        <select name="node">
          <option value="">The best node</option>
          {nodes.map((n) => (
            <option key={n.id} value={n.id}>
              {n.id}
            </option>
          ))}
        </select>
      </label>
      <button type="submit" class="primary">
        Pull
      </button>
    </form>
  );
}

export function MigrateForm({ models, nodes, act }: { models: FleetModel[]; nodes: FleetNode[]; act: Act }) {
  const [model, setModel] = useState("");
  const chosen = models.find((m) => m.name === model) ?? models[0];
  const targets = chosen ? nodes.filter((n) => !chosen.nodes.includes(n.id)) : [];
  const submit = async (event: SubmitEvent) => {
    event.preventDefault();
    const form = event.currentTarget as HTMLFormElement;
    const field = (name: string) => (form.elements.namedItem(name) as HTMLSelectElement).value;
    await act(() => api("/api/distributed/migrate", { method: "POST", body: { model_name: chosen.name, from_node: field("from"), to_node: field("to") } }));
  };
  if (!chosen) return null;
  return (
    <form class="card model-form" onSubmit={submit} aria-label="Move a model">
      <label>
        Model to move
        <select name="model" value={chosen.name} onChange={(e) => setModel(e.currentTarget.value)}>
          {models.map((m) => (
            <option key={m.name} value={m.name}>
              {m.name}
            </option>
          ))}
        </select>
      </label>
      <label>
        From
        <select name="from">
          {chosen.nodes.map((n) => (
            <option key={n} value={n}>
              {n}
            </option>
          ))}
        </select>
      </label>
      <label>
        To
        <select name="to" required>
          {targets.map((n) => (
            <option key={n.id} value={n.id}>
              {n.id}
            </option>
          ))}
        </select>
      </label>
      <button type="submit" disabled={targets.length === 0}>
        Migrate
      </button>
    </form>
  );
}

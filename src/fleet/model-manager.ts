import type { Store, TransferRow } from "../store/index.js";
import { FlotillaError } from "../kernel/index.js";
import type { Fleet } from "./fleet.js";
import { fleetModels } from "./fleet-models.js";
import { modelKey } from "./model-name.js";
import type { ServerNode } from "./node.js";
import type { NodeCall, StatusError, Transfers } from "./transfers.js";

/** One step a rebalance took. */
export interface RebalanceAction {
  model: string;
  action: "pull" | "delete";
  node: string;
  transfer_id?: string;
  error?: string;
}

export interface ReplicationState {
  name: string;
  desired: number | null;
  actual: number;
  nodes: string[];
  transferring: string[];
  status: "ok" | "under" | "over" | "unmanaged";
}

const DESIRED = "replication";

/**
 * Models across the fleet: where each is, pulling one onto a node, removing
 * it, moving it, and keeping each model's desired number of copies.
 */
export class ModelManager {
  /** Desired copies per model key; config gives the start, the API may change it (kept in the database). */
  private desired = new Map<string, { name: string; replicas: number }>();

  constructor(
    private readonly fleet: Fleet,
    private readonly store: Store,
    readonly transfers: Transfers,
    private readonly call: NodeCall,
    private readonly statusError: StatusError,
    private readonly configured: Readonly<Record<string, number>>,
    private readonly timeoutMs: number,
  ) {}

  async load(): Promise<void> {
    const stored = ((await this.store.settings.get(DESIRED)) ?? {}) as Record<string, number>;
    this.desired = new Map(Object.entries({ ...this.configured, ...stored }).map(([name, replicas]) => [modelKey(name), { name, replicas }]));
  }

  async setDesired(name: string, replicas: number): Promise<void> {
    await this.load();
    this.desired.set(modelKey(name), { name, replicas });
    await this.store.settings.set(DESIRED, Object.fromEntries([...this.desired.values()].map((d) => [d.name, d.replicas])));
  }

  /** Nodes a model can be pulled onto: Ollama-speaking, up and not drained. */
  private pullable(): ServerNode[] {
    return this.fleet.all().filter((n) => n.up && !n.spec.drained && n.kind === "ollama");
  }

  node(name: string): ServerNode {
    const node = this.fleet.get(name);
    if (!node) throw new FlotillaError("server_not_found", `no node named "${name}"`, { param: "node" });
    if (!node.up) throw new FlotillaError("no_server_available", `node "${name}" is down`, { param: "node" });
    if (node.kind !== "ollama") throw new FlotillaError("unsupported_operation", `node "${name}" does not speak Ollama's API: models cannot be pulled onto it`, { param: "node" });
    return node;
  }

  /**
   * Where a new copy of `model` should go: a node without it and, where its
   * disk is known, with room for it; the most free VRAM first, then the fewest models.
   */
  bestNodeFor(model: string, exclude: ReadonlySet<string> = new Set()): ServerNode | undefined {
    const key = modelKey(model);
    const size = this.fleet.all().reduce((found, n) => found ?? n.models.get(key)?.size, undefined as number | undefined) ?? 0;
    return this.pullable()
      .filter((n) => !n.hasModel(key) && !exclude.has(n.name) && (n.system?.disk === undefined || n.system.disk.free_bytes >= size))
      .sort((a, b) => (b.freeVram ?? 0) - (a.freeVram ?? 0) || a.models.size - b.models.size || a.name.localeCompare(b.name))[0];
  }

  /** Starts pulling `model` onto the named node, or the best one. */
  async download(model: string, nodeName?: string, source: TransferRow["source"] = "download") {
    const node = nodeName ? this.node(nodeName) : this.bestNodeFor(model);
    if (!node) throw new FlotillaError("conflict", `every online Ollama node has "${model}" already, or none can take it`);
    return this.transfers.start(node, model, source);
  }

  /** Deletes `model` from the given nodes; answers where it went from. */
  async remove(model: string, nodes: ServerNode[]): Promise<string[]> {
    const results = await Promise.all(
      nodes.map(async (node) => {
        const res = await this.call(node, { method: "DELETE", path: "/api/delete", body: JSON.stringify({ model }), requestId: `del_${node.name}`, timeoutMs: this.timeoutMs });
        // A 404 says the model was gone already (the fleet's view was older): what was asked holds there.
        const gone = res.statusCode === 404;
        if (res.statusCode >= 400 && !gone) return { node, error: await this.statusError(node, res) };
        await res.body.dump();
        node.models.delete(modelKey(model));
        node.loaded.delete(modelKey(model));
        this.fleet.changed(node);
        return { node, deleted: !gone };
      }),
    );
    const errors = results.flatMap((r) => (r.error ? [r.error] : []));
    if (errors.length) {
      // Refused by every server that failed (a 4xx): that refusal is the answer; any server failing is a 502.
      const refused = errors.every((e) => e.status < 500);
      throw new FlotillaError(refused ? errors[0].code : "upstream_error", errors.map((e) => e.message).join("; "), refused ? { status: errors[0].status } : {});
    }
    const deleted = results.filter((r) => r.deleted).map((r) => r.node.name);
    if (deleted.length === 0) throw new FlotillaError("model_not_found", `model "${model}" was on none of ${nodes.map((n) => n.name).join(", ")} any more`, { param: "name" });
    return deleted;
  }

  /** The online nodes that hold `model`. */
  holders(model: string): ServerNode[] {
    const key = modelKey(model);
    return this.fleet.all().filter((n) => n.up && n.hasModel(key));
  }

  /** Copies `model` to `to`, then removes it from `from` once the copy is complete. */
  async migrate(model: string, fromName: string, toName: string) {
    const from = this.node(fromName);
    if (!from.hasModel(modelKey(model))) throw new FlotillaError("model_not_found", `node "${fromName}" does not have "${model}"`, { param: "model_name" });
    const started = await this.transfers.start(this.node(toName), model, "migrate");
    const moved = started.done.then(async (row) => {
      if (row.status === "completed") await this.remove(model, [from]);
      return row;
    });
    return { row: started.row, done: moved };
  }

  /** What each managed model has against what it should have. */
  async replication(): Promise<ReplicationState[]> {
    await this.load();
    const running = (await this.transfers.list()).filter((t) => t.status === "running");
    const models = fleetModels(this.fleet.all().filter((n) => n.up && !n.spec.drained));
    const keys = new Set([...this.desired.keys(), ...models.keys()]);
    return [...keys].sort().map((key) => {
      const want = this.desired.get(key);
      const have = models.get(key);
      const nodes = have?.servers ?? [];
      const transferring = running.filter((t) => modelKey(t.model) === key).map((t) => t.node);
      const actual = nodes.length;
      const status = !want ? "unmanaged" : actual + transferring.length < want.replicas ? "under" : actual > want.replicas ? "over" : "ok";
      return { name: want?.name ?? have?.name ?? key, desired: want?.replicas ?? null, actual, nodes, transferring, status };
    });
  }

  /**
   * Pulls or removes copies until each managed model has its desired count
   * on nodes that are up and not drained. A running transfer counts as a copy
   * to be; a copy is removed first where the model is not loaded.
   */
  async rebalance(): Promise<RebalanceAction[]> {
    const actions: RebalanceAction[] = [];
    for (const state of await this.replication()) {
      if (state.desired === null) continue;
      const missing = state.desired - state.actual - state.transferring.length;
      const busy = new Set([...state.nodes, ...state.transferring]);
      for (let i = 0; i < missing; i++) {
        const node = this.bestNodeFor(state.name, busy);
        if (!node) {
          actions.push({ model: state.name, action: "pull", node: "", error: "no node up, undrained and without the model is left to take a copy" });
          break;
        }
        busy.add(node.name);
        const { row } = await this.transfers.start(node, state.name, "rebalance");
        actions.push({ model: state.name, action: "pull", node: node.name, transfer_id: row.id });
      }
      const extra = state.actual - state.desired;
      if (extra > 0) {
        const key = modelKey(state.name);
        const nodes = state.nodes.map((n) => this.fleet.get(n) as ServerNode).sort((a, b) => Number(a.loaded.has(key)) - Number(b.loaded.has(key)) || b.name.localeCompare(a.name));
        for (const node of nodes.slice(0, extra)) {
          try {
            await this.remove(state.name, [node]);
            actions.push({ model: state.name, action: "delete", node: node.name });
          } catch (err) {
            actions.push({ model: state.name, action: "delete", node: node.name, error: (err as Error).message });
          }
        }
      }
    }
    return actions;
  }
}

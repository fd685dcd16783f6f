import { EventEmitter } from "node:events";
import { ServerNode, type ServerSpec } from "./node.js";
import { UnusableTransport } from "./transport.js";

export interface FleetEvents {
  /** A node was added, changed, removed, went up or down, or its models changed. */
  change: [node: ServerNode];
  removed: [name: string];
}

/** The set of nodes, by name. Routing reads it; polling and the admin API write it. */
export class Fleet extends EventEmitter<FleetEvents> {
  private readonly nodes = new Map<string, ServerNode>();
  /** Snapshot array for the hot path, rebuilt only when membership changes. */
  private list: ServerNode[] = [];

  all(): readonly ServerNode[] {
    return this.list;
  }

  get(name: string): ServerNode | undefined {
    return this.nodes.get(name);
  }

  /** Adds a node or updates its spec; a changed URL starts a fresh node (new pool, unknown state). */
  upsert(spec: ServerSpec): ServerNode {
    return this.put(this.prepare(spec), spec);
  }

  /**
   * The node a spec needs, not yet in the fleet: the one there when its URL is unchanged
   * (its pool and what is known of it kept), else a new one. Throws, changing nothing,
   * when no pool can be made for the URL.
   */
  prepare(spec: ServerSpec): ServerNode {
    const existing = this.nodes.get(spec.name);
    if (existing && existing.spec.url === spec.url && !(existing.transport instanceof UnusableTransport)) return existing;
    return new ServerNode(spec);
  }

  /** Puts a node from `prepare` in the fleet under `spec`: no I/O, nothing that fails. */
  put(node: ServerNode, spec: ServerSpec): ServerNode {
    node.spec = spec;
    if (spec.kind) node.kind = spec.kind;
    if (this.nodes.get(spec.name) === node) this.emit("change", node);
    else this.attach(node);
    return node;
  }

  /** Adds a node made elsewhere (a worker, the engine), replacing one of the same name. */
  attach(node: ServerNode): void {
    const existing = this.nodes.get(node.name);
    if (existing && existing !== node) void existing.close();
    this.nodes.set(node.name, node);
    this.list = [...this.nodes.values()];
    this.emit("change", node);
  }

  remove(name: string): boolean {
    const node = this.nodes.get(name);
    if (!node) return false;
    this.nodes.delete(name);
    this.list = [...this.nodes.values()];
    void node.close();
    this.emit("removed", name);
    return true;
  }

  changed(node: ServerNode): void {
    this.emit("change", node);
  }

  async close(): Promise<void> {
    await Promise.all(this.list.map((n) => n.close()));
  }
}

import { randomUUID } from "node:crypto";
import { EventEmitter } from "node:events";
import type { Fleet, ServerNode } from "../fleet/index.js";
import type { EventKind, EventRow, Store, SystemSampleRow } from "../store/index.js";

export interface FleetEventsOptions {
  systemSampleMs: number;
  retentionMs: number;
  onError(err: unknown): void;
}

/** What was last seen of a node, to tell what changed. */
interface Seen {
  up: boolean;
  version: string | undefined;
  drained: boolean;
  loaded: Set<string>;
}

const PRUNE_EVERY_MS = 3_600_000;

/**
 * Turns what the fleet observes (polls, worker heartbeats, drains) into
 * events: models loaded and unloaded, servers online, offline and rebooted
 * (their version changed), nodes drained. Events are stored and emitted as
 * `event` for live views; each node's machine is sampled now and then.
 */
export class FleetEvents extends EventEmitter<{ event: [EventRow] }> {
  private readonly seen = new Map<string, Seen>();
  private pending: EventRow[] = [];
  private flushing: Promise<void> | undefined;
  private readonly timers: NodeJS.Timeout[] = [];

  constructor(
    private readonly fleet: Fleet,
    private readonly store: Store,
    private readonly options: FleetEventsOptions,
  ) {
    super();
    fleet.on("change", (node) => this.observe(node));
    fleet.on("removed", (name) => this.seen.delete(name));
  }

  start(): void {
    for (const node of this.fleet.all()) this.observe(node);
    this.timers.push(setInterval(() => void this.sample(), this.options.systemSampleMs));
    this.timers.push(setInterval(() => void this.store.events.prune(Date.now() - this.options.retentionMs).catch(this.options.onError), PRUNE_EVERY_MS));
    for (const timer of this.timers) timer.unref();
  }

  private observe(node: ServerNode): void {
    const before = this.seen.get(node.name);
    const now: Seen = { up: node.up, version: node.version, drained: node.spec.drained, loaded: new Set([...node.loaded.values()].map((m) => m.name)) };
    this.seen.set(node.name, now);
    if (!before) {
      // A node first seen (at start, or joining) is online if it answered; its models are where it starts from.
      if (now.up) this.add("server_online", node.name, null, "first seen");
      return;
    }
    if (now.up !== before.up) this.add(now.up ? "server_online" : "server_offline", node.name, null, now.up ? null : (node.lastError ?? null));
    if (now.up && before.version !== undefined && now.version !== undefined && now.version !== before.version) {
      this.add("server_reboot", node.name, null, `version ${before.version} → ${now.version}`);
    }
    if (now.drained !== before.drained) this.add(now.drained ? "node_drained" : "node_undrained", node.name, null, null);
    if (!now.up) return;
    for (const model of now.loaded) if (!before.loaded.has(model)) this.add("model_loaded", node.name, model, null);
    for (const model of before.loaded) if (!now.loaded.has(model)) this.add("model_unloaded", node.name, model, null);
  }

  private add(kind: EventKind, node: string, model: string | null, detail: string | null): void {
    const row: EventRow = { id: `evt_${randomUUID().replace(/-/g, "")}`, time: Date.now(), kind, node, model, detail };
    this.pending.push(row);
    this.emit("event", row);
    // Events come rarely and in bursts (one poll, several models): one write per burst, on the next turn.
    if (this.pending.length === 1) setImmediate(() => void this.flush());
  }

  /** Writes what is pending; a failed write keeps its rows for the next one. */
  flush(): Promise<void> {
    this.flushing ??= (async () => {
      while (this.pending.length > 0) {
        const rows = this.pending;
        this.pending = [];
        try {
          await this.store.events.insert(rows);
        } catch (err) {
          this.pending = rows.concat(this.pending);
          this.options.onError(err);
          break;
        }
      }
    })().finally(() => (this.flushing = undefined));
    return this.flushing;
  }

  /** One sample per node whose machine is known (workers report theirs). */
  async sample(at = Date.now()): Promise<void> {
    const rows: SystemSampleRow[] = [];
    for (const node of this.fleet.all()) {
      const system = node.system;
      if (!system) continue;
      rows.push({
        node: node.name,
        time: at,
        cpu_cores: system.cpu?.cores ?? null,
        cpu_load_1m: system.cpu?.load_1m ?? null,
        memory_total_bytes: system.memory?.total_bytes ?? null,
        memory_free_bytes: system.memory?.free_bytes ?? null,
        gpus: system.gpus ? JSON.stringify(system.gpus) : null,
      });
    }
    await this.store.events.insertSamples(rows).catch(this.options.onError);
  }

  async close(): Promise<void> {
    for (const timer of this.timers) clearInterval(timer);
    await this.flush();
  }
}

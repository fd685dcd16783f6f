import type { Fleet } from "./fleet.js";
import { InventoryReader } from "./inventory.js";
import { readNodeExporter } from "./node-exporter.js";
import type { ServerNode } from "./node.js";

export interface PollerOptions {
  intervalMs: number;
  timeoutMs: number;
  onError?: (node: ServerNode, message: string) => void;
}

/**
 * Asks every server what it has, on an interval and on demand. One failed
 * poll marks a server down; the next good one brings it back.
 */
export class Poller {
  private timer: NodeJS.Timeout | undefined;
  private readonly running = new Map<string, Promise<void>>();

  constructor(
    private readonly fleet: Fleet,
    private readonly options: PollerOptions,
  ) {}

  start(): void {
    void this.pollAll();
    this.timer = setInterval(() => void this.pollAll(), this.options.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  pollAll(): Promise<void> {
    return Promise.all(this.fleet.all().map((n) => this.poll(n))).then(() => undefined);
  }

  /**
   * Polls the servers that are up, for a caller that needs fresh models now;
   * a down server would only make it wait out the poll timeout.
   */
  pollOnline(): Promise<void> {
    return Promise.all(this.fleet.all().filter((n) => n.up).map((n) => this.poll(n))).then(() => undefined);
  }

  /** Polls one node; concurrent callers share the poll in progress. */
  poll(node: ServerNode): Promise<void> {
    if (!node.polled) return Promise.resolve();
    const pending = this.running.get(node.name);
    if (pending) return pending;
    const run = this.pollOnce(node).finally(() => this.running.delete(node.name));
    this.running.set(node.name, run);
    return run;
  }

  private async pollOnce(node: ServerNode): Promise<void> {
    const started = performance.now();
    const wasUp = node.up;
    try {
      const reader = new InventoryReader(node.transport, this.options.timeoutMs, node.spec.api_key);
      // The machine is read beside the inventory; an exporter that fails leaves the server up.
      const machine = node.spec.node_exporter_url ? readNodeExporter(node.spec.node_exporter_url, this.options.timeoutMs).catch(() => undefined) : undefined;
      node.kind ??= await reader.probeApi();
      const inventory = await reader.read(node.kind);
      if (machine) node.system = await machine;
      node.setModels(inventory.models);
      node.setLoaded(inventory.loaded);
      node.version = inventory.version;
      node.observeLatency(performance.now() - started);
      node.up = true;
      node.lastSeen = Date.now();
      node.lastError = undefined;
    } catch (err) {
      node.up = false;
      node.lastError = describe(err);
      if (wasUp || node.lastSeen === 0) this.options.onError?.(node, node.lastError);
    }
    if (this.fleet.get(node.name) === node) this.fleet.changed(node);
  }
}

function describe(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code;
    return code ? `${code}: ${err.message}` : err.message;
  }
  return String(err);
}

import type { ServerKind } from "../config/index.js";
import { modelKey } from "./model-name.js";
import type { SystemMetrics } from "./system-metrics.js";
import { HttpTransport, type Transport } from "./transport.js";

/**
 * `config`: the config file or a `--server` flag; `api`: added at run time;
 * `worker`: dialled in over a WebSocket; `embedded`: the gateway's own engine.
 */
export type ServerSource = "config" | "api" | "worker" | "embedded";

/** A backend as declared: the persisted part of a node. */
export interface ServerSpec {
  name: string;
  url: string;
  kind?: ServerKind;
  api_key?: string;
  max_concurrency?: number;
  vram_bytes?: number;
  node_exporter_url?: string;
  drained: boolean;
  source: ServerSource;
}

export interface ModelEntry {
  name: string;
  size?: number;
  digest?: string;
  modified_at?: string;
  details?: Record<string, unknown>;
}

export interface LoadedEntry {
  name: string;
  size?: number;
  size_vram?: number;
  expires_at?: string;
}

const LATENCY_WEIGHT = 0.3;

/**
 * One inference server and what is known of it now. The router reads these
 * fields on every request, so they are plain properties.
 */
export class ServerNode {
  spec: ServerSpec;
  /** The spec's kind, or the probed one. Unknown until the first successful probe. */
  kind: ServerKind | undefined;
  up = false;
  lastSeen = 0;
  lastError: string | undefined;
  version: string | undefined;
  models = new Map<string, ModelEntry>();
  loaded = new Map<string, LoadedEntry>();
  inFlight = 0;
  latencyMs: number | undefined;
  /** The machine's CPU, memory and GPUs, as a worker last reported them. */
  system: SystemMetrics | undefined;
  readonly transport: Transport;

  constructor(spec: ServerSpec, transport: Transport = new HttpTransport(spec.url)) {
    this.spec = spec;
    this.kind = spec.kind;
    this.transport = transport;
  }

  /** Polled servers are asked what they have; workers and the engine say so themselves. */
  get polled(): boolean {
    return this.transport.via === "http";
  }

  get name(): string {
    return this.spec.name;
  }

  /** Free slots, or Infinity for a server without max_concurrency. */
  get freeSlots(): number {
    const max = this.spec.max_concurrency;
    return max === undefined ? Infinity : max - this.inFlight;
  }

  get busyRatio(): number {
    return this.inFlight / (this.spec.max_concurrency ?? 1);
  }

  /** Declared VRAM minus what loaded models use; undefined when the total is not declared. */
  get freeVram(): number | undefined {
    const total = this.spec.vram_bytes;
    if (total === undefined) return undefined;
    let used = 0;
    for (const entry of this.loaded.values()) used += entry.size_vram ?? 0;
    return total - used;
  }

  hasModel(key: string): boolean {
    return this.models.has(key) || this.loaded.has(key);
  }

  /** The server's own spelling of a model. */
  upstreamName(key: string): string | undefined {
    return (this.models.get(key) ?? this.loaded.get(key))?.name;
  }

  observeLatency(ms: number): void {
    this.latencyMs = this.latencyMs === undefined ? ms : this.latencyMs + LATENCY_WEIGHT * (ms - this.latencyMs);
  }

  setModels(models: ModelEntry[]): void {
    this.models = new Map(models.map((m) => [modelKey(m.name), m]));
  }

  setLoaded(loaded: LoadedEntry[]): void {
    this.loaded = new Map(loaded.map((m) => [modelKey(m.name), m]));
  }

  async close(): Promise<void> {
    await this.transport.close();
  }
}

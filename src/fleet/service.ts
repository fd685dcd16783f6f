import { fetchUrlProblem, serverUrlProblem, type Config, type ServerSpecInput } from "../config/index.js";
import { FlotillaError, isSealed, type Sealer } from "../kernel/index.js";
import type { Store } from "../store/index.js";
import { Admission } from "./admission.js";
import { Fleet } from "./fleet.js";
import { ServerNode, type ServerSpec } from "./node.js";
import { InFlightRequests } from "./in-flight.js";
import { ModelManager } from "./model-manager.js";
import { Transfers, type NodeCall, type StatusError } from "./transfers.js";
import { Poller } from "./poller.js";
import { UnusableTransport } from "./transport.js";
import { Router, type FallbackPolicy, type RoutingMode } from "./router.js";
import { ModelSwitches } from "./model-switches.js";

const MODE = "routing_mode";
const FALLBACK = "fallback";

/** Where a stored server came from; workers and the engine are never stored. */
type StoredSource = "config" | "api";

export interface FleetLog {
  info(msg: string): void;
  warn(msg: string): void;
}

/**
 * The fleet as the rest of the gateway sees it: nodes kept in the database,
 * polled, routed to and admitted through one place.
 */
export class FleetService {
  readonly fleet = new Fleet();
  readonly router: Router;
  readonly admission: Admission;
  readonly poller: Poller;
  readonly requests = new InFlightRequests();
  readonly models: ModelManager;
  /** Models an admin turned off (hidden, or not routed to on a node), kept in memory for the request path. */
  readonly switches = new ModelSwitches();
  private settingsTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly config: Readonly<Config>,
    private readonly store: Store,
    private readonly log: FleetLog,
    /** How model operations reach a node (the proxy's upstream call, with its credentials and errors). */
    nodes: { call: NodeCall; statusError: StatusError },
    /** Seals servers' api_keys in the database and opens them to call upstream. */
    private readonly apiKeys: Sealer,
  ) {
    this.router = new Router(this.fleet, {
      fallbackQuantization: config.routing.fallback_quantization,
      affinity: config.routing.affinity,
    }, this.switches);
    this.admission = new Admission(this.router, {
      queueMax: config.routing.queue_max,
      queueTimeoutMs: config.routing.queue_timeout_ms,
      batchReserveSlots: config.routing.batch_reserve_slots,
    });
    this.poller = new Poller(this.fleet, {
      intervalMs: config.poll.interval_ms,
      timeoutMs: config.poll.timeout_ms,
      onError: (node, message) => log.warn(`server ${node.name} is down: ${message}`),
    });
    this.fleet.on("change", () => this.admission.pump());
    const transfers = new Transfers(store, nodes.call, nodes.statusError, (node) => this.poller.poll(node), {
      timeoutMs: config.routing.first_byte_timeout_ms,
      writeEveryMs: 1000,
      onError: (err) => log.warn(`transfer progress not written: ${(err as Error).message}`),
    });
    this.models = new ModelManager(this.fleet, store, transfers, nodes.call, nodes.statusError, config.replicas, config.routing.first_byte_timeout_ms);
  }

  /**
   * Servers from the config file and `--server` flags replace their earlier copies in the
   * database; ones since dropped from config are removed; API-added ones stay.
   */
  async start(): Promise<void> {
    await this.sealPlainApiKeys();
    const declared = this.config.servers.map((s) => toSpec(s as ServerSpecInput, "config"));
    const names = new Set(declared.map((s) => s.name));
    for (const row of await this.store.servers.list()) {
      if (row.source !== "api" && !names.has(row.name)) await this.store.servers.remove(row.name);
    }
    const stored = new Map((await this.store.servers.list()).map((r) => [r.name, r]));
    for (const spec of declared) {
      spec.drained = Boolean(stored.get(spec.name)?.drained);
      await this.store.servers.upsert(toRow(spec, this.apiKeys));
    }
    for (const row of await this.store.servers.list()) this.addStored(row);
    await this.loadSettings();
    await this.models.load();
    // Another replica may change the mode or fallback: read them again as often as servers are polled.
    this.settingsTimer = setInterval(() => void this.loadSettings().catch((err: Error) => this.log.warn(`fleet settings not read: ${err.message}`)), this.config.poll.interval_ms);
    this.settingsTimer.unref();
    this.poller.start();
    await this.poller.pollAll();
    for (const node of this.fleet.all()) {
      this.log.info(`server ${node.name} (${node.kind ?? "unknown kind"}) ${node.spec.url}: ${node.up ? `up, ${node.models.size} models` : `down: ${node.lastError}`}`);
    }
  }

  /**
   * A stored server that cannot be used (an address an older version let in, a row
   * edited by hand) is skipped with a warning, never fatal to the start: it is listed
   * down with why, so that the admin API can still change or remove it.
   */
  private addStored(row: ServerRow): void {
    let spec: ServerSpec | undefined;
    try {
      spec = fromRow(row, this.apiKeys);
      const problem = serverUrlProblem(spec.url);
      if (problem) throw new Error(problem);
      this.fleet.upsert(spec);
    } catch (err) {
      const why = (err as Error).message;
      this.log.warn(`server ${row.name} (${row.url}) cannot be used and is skipped: ${why}; change it with PUT /admin/servers/${row.name} or remove it with DELETE`);
      // A row that could not be read at all is listed without its api_key.
      this.fleet.attach(new ServerNode(spec ?? fromRow({ ...row, api_key: null }, this.apiKeys), new UnusableTransport(`cannot be used: ${why}`)));
    }
  }

  /**
   * Adds or changes a server as one unit: whatever can fail (the address, making its
   * pool, writing the row) happens before the fleet changes, and a failed write closes
   * the pool made for it, so neither a row nor a node is left behind.
   */
  async upsertServer(input: ServerSpecInput, source: StoredSource = "api"): Promise<ServerNode> {
    checkServerUrls(input);
    const existing = this.fleet.get(input.name);
    const spec = toSpec(input, source);
    spec.drained = existing?.spec.drained ?? false;
    const node = this.prepareNode(spec);
    try {
      await this.store.servers.upsert(toRow(spec, this.apiKeys));
    } catch (err) {
      if (node !== existing) await node.close();
      throw err;
    }
    this.fleet.put(node, spec);
    await this.poller.poll(node);
    return node;
  }

  /** api_keys stored as plain text before they were sealed are sealed once, here, at the first start that can. */
  private async sealPlainApiKeys(): Promise<void> {
    for (const row of await this.store.servers.list()) {
      if (row.api_key !== null && !isSealed(row.api_key)) await this.store.servers.replaceApiKey(row.name, row.api_key, this.apiKeys.seal(row.api_key));
    }
  }

  private prepareNode(spec: ServerSpec): ServerNode {
    try {
      return this.fleet.prepare(spec);
    } catch (err) {
      throw new FlotillaError("invalid_request", `url: "${spec.url}" cannot be used: ${(err as Error).message}`, { param: "url" });
    }
  }

  async removeServer(name: string): Promise<boolean> {
    const removed = await this.store.servers.remove(name);
    return this.fleet.remove(name) || removed;
  }

  async setDrained(name: string, drained: boolean): Promise<ServerNode | undefined> {
    const node = this.fleet.get(name);
    if (!node) return undefined;
    await this.store.servers.setDrained(name, drained);
    this.fleet.put(node, { ...node.spec, drained });
    return node;
  }

  /** Seed 003's /admin/mode, kept in the database for every replica. */
  async setMode(mode: RoutingMode): Promise<void> {
    await this.store.settings.set(MODE, mode);
    this.router.mode = mode;
  }

  /** Seed 003's /admin/fallback, kept in the database for every replica. */
  async setFallback(policy: FallbackPolicy): Promise<void> {
    await this.store.settings.set(FALLBACK, policy);
    this.router.fallback = policy;
  }

  private async loadSettings(): Promise<void> {
    const [mode, fallback] = await Promise.all([this.store.settings.get(MODE), this.store.settings.get(FALLBACK)]);
    if (mode) this.router.mode = mode as RoutingMode;
    if (fallback) this.router.fallback = fallback as FallbackPolicy;
  }

  async close(): Promise<void> {
    clearInterval(this.settingsTimer);
    await this.models.transfers.close();
    this.poller.stop();
    await this.fleet.close();
  }
}

/** A server's addresses are checked before anything is stored: a row the fleet cannot use would fail every start after. */
function checkServerUrls(input: ServerSpecInput): void {
  const url = serverUrlProblem(input.url.replace(/\/+$/, ""));
  if (url) throw new FlotillaError("invalid_request", `url: ${url}`, { param: "url" });
  const exporter = input.node_exporter_url === undefined ? undefined : fetchUrlProblem(input.node_exporter_url);
  if (exporter) throw new FlotillaError("invalid_request", `node_exporter_url: ${exporter}`, { param: "node_exporter_url" });
}

type ServerRow = Awaited<ReturnType<Store["servers"]["list"]>>[number];

function toSpec(input: ServerSpecInput, source: StoredSource): ServerSpec & { source: StoredSource } {
  return {
    name: input.name,
    url: input.url.replace(/\/+$/, ""),
    kind: input.kind,
    api_key: input.api_key,
    max_concurrency: input.max_concurrency,
    vram_bytes: input.vram_bytes,
    node_exporter_url: input.node_exporter_url,
    drained: false,
    source,
  };
}

function toRow(spec: ServerSpec & { source: StoredSource }, apiKeys: Sealer) {
  return {
    name: spec.name,
    url: spec.url,
    kind: spec.kind ?? null,
    api_key: spec.api_key === undefined ? null : apiKeys.seal(spec.api_key),
    max_concurrency: spec.max_concurrency ?? null,
    vram_bytes: spec.vram_bytes ?? null,
    node_exporter_url: spec.node_exporter_url ?? null,
    drained: spec.drained,
    source: spec.source,
  };
}

/** Throws when the server's api_key does not open under this gateway's secret_key. */
function fromRow(row: ServerRow, apiKeys: Sealer): ServerSpec {
  return {
    name: row.name,
    url: row.url,
    kind: (row.kind as ServerSpec["kind"]) ?? undefined,
    api_key: row.api_key === null ? undefined : apiKeys.open(row.api_key),
    max_concurrency: row.max_concurrency ?? undefined,
    vram_bytes: row.vram_bytes ?? undefined,
    node_exporter_url: row.node_exporter_url ?? undefined,
    drained: Boolean(row.drained),
    source: row.source as StoredSource,
  };
}

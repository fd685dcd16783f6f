import { randomUUID } from "node:crypto";
import type { RawData, WebSocket } from "ws";
import { ServerNode, type Fleet, type ModelEntry } from "../fleet/index.js";
import type { SystemMetrics } from "../fleet/system-metrics.js";
import { ClientKeyCheck, namePatterns, type DialInPeer } from "../kernel/index.js";
import { WorkerConnection, WorkerTransport } from "./connection.js";
import { checkMessage, CLOSE, EndMessage, ErrorMessage, HeartbeatMessage, parseMessage, RegisterMessage, ResponseMessage, type RegisteredMessage } from "./protocol.js";

export interface WorkerHubOptions {
  /** FLOTILLA_CLIENT_KEY; undefined means workers must send none. */
  clientKey: string | undefined;
  heartbeatIntervalMs: number;
  heartbeatTimeoutMs: number;
  registerTimeoutMs: number;
  /** How long a disconnected worker stays listed (down) before it is dropped. */
  forgetAfterMs: number;
  /**
   * The models each worker may serve, by worker id (`*`: any other worker),
   * as name patterns; empty: any model. A model outside them is not offered.
   */
  allowedModels: Readonly<Record<string, readonly string[]>>;
}

export interface HubLog {
  info(msg: string): void;
  warn(msg: string): void;
}

interface WorkerEntry {
  node: ServerNode;
  transport: WorkerTransport;
  forget?: NodeJS.Timeout;
}

/** Which models one worker may serve (undefined: any), and those it offered outside them. */
type ModelRule = { matches: (name: string) => boolean; withheld: Set<string> } | undefined;

const SCHEMAS = { heartbeat: HeartbeatMessage, response: ResponseMessage, end: EndMessage, error: ErrorMessage } as const;

/**
 * Admits dial-in workers (seed 000's register message and client-key rules)
 * and keeps each one in the fleet as a node while its socket lives.
 */
export class WorkerHub {
  private readonly workers = new Map<string, WorkerEntry>();
  private readonly sockets = new Set<WebSocket>();
  private readonly clientKey: ClientKeyCheck;

  constructor(
    private readonly fleet: Fleet,
    private readonly options: WorkerHubOptions,
    private readonly log: HubLog,
  ) {
    this.clientKey = new ClientKeyCheck(options.clientKey, "the worker");
  }

  /** Takes a freshly upgraded socket; the first message must register. */
  accept(socket: WebSocket, peer: DialInPeer): void {
    this.sockets.add(socket);
    socket.once("close", () => this.sockets.delete(socket));
    const timer = setTimeout(() => refuse(socket, CLOSE.registerTimeout, "no register message in time"), this.options.registerTimeoutMs);
    socket.once("message", (data, isBinary) => {
      clearTimeout(timer);
      if (isBinary) return refuse(socket, CLOSE.badRegister, "the first message must be a JSON register message");
      const parsed = parseMessage(RegisterMessage, data.toString());
      if (!parsed.ok) return refuse(socket, CLOSE.badRegister, `bad register message: ${parsed.error}`);
      const denied = this.clientKey.problem(parsed.value.client_key, peer);
      if (denied) {
        this.log.warn(`refused a worker from ${peer.address}: ${denied}`);
        return refuse(socket, CLOSE.unauthorized, denied);
      }
      this.register(socket, parsed.value, peer.address);
    });
    socket.once("close", () => clearTimeout(timer));
  }

  private register(socket: WebSocket, message: RegisterMessage, remote: string): void {
    const workerId = message.worker_id ?? `worker-${randomUUID().slice(0, 8)}`;
    const name = message.worker_name ?? workerId;
    const taken = this.fleet.get(name);
    const previous = this.workers.get(workerId);
    if (taken && taken !== previous?.node) {
      return refuse(socket, CLOSE.nameTaken, `the name "${name}" is taken by ${taken.spec.source === "worker" ? "another worker" : "a server"}`);
    }
    const entry = previous?.node.name === name ? previous : this.newEntry(workerId, name, previous);
    clearTimeout(entry.forget);
    entry.transport.connection?.close(CLOSE.replaced, "replaced by a new connection from the same worker");

    const connection = new WorkerConnection(socket, name);
    entry.transport.connection = connection;
    const node = entry.node;
    node.spec = { ...node.spec, kind: message.api ?? "ollama", max_concurrency: message.max_concurrency };
    node.kind = node.spec.kind;
    const allowed = this.modelsAllowed(workerId);
    if (message.models) node.setModels(this.offered(node, allowed, message.models.map((m) => ({ name: m }))));
    node.version = message.agent;
    node.up = true;
    node.lastSeen = Date.now();
    node.lastError = undefined;
    const registered: RegisteredMessage = { type: "registered", worker_id: workerId, name, heartbeat_interval_ms: this.options.heartbeatIntervalMs };
    socket.send(JSON.stringify(registered));
    this.fleet.attach(node);
    this.log.info(`worker ${name} (${workerId}) connected from ${remote}${previous ? " again" : ""}`);

    // Pings measure the round trip, which the router weighs as polled servers' poll time.
    let pingSentAt = 0;
    socket.on("pong", () => node.observeLatency(performance.now() - pingSentAt));
    const watchdog = setInterval(() => {
      const silent = Date.now() - node.lastSeen;
      if (silent > this.options.heartbeatTimeoutMs) {
        connection.fail(`sent no heartbeat for ${silent} ms`);
        socket.terminate();
        return;
      }
      pingSentAt = performance.now();
      socket.ping();
    }, Math.min(this.options.heartbeatIntervalMs, this.options.heartbeatTimeoutMs / 2));
    watchdog.unref();

    socket.on("message", (data, isBinary) => {
      if (entry.transport.connection !== connection) return;
      node.lastSeen = Date.now();
      if (isBinary) return connection.handleChunk(asBuffer(data));
      this.handleText(connection, node, allowed, data.toString());
    });
    socket.once("close", (code, reason) => {
      clearInterval(watchdog);
      const why = connection.failure ?? `disconnected: ${reason.length ? reason.toString() : `closed (${code})`}`;
      connection.fail(why);
      if (entry.transport.connection !== connection) return;
      entry.transport.connection = undefined;
      node.up = false;
      node.lastError = why;
      this.fleet.changed(node);
      this.log.warn(`worker ${name} (${workerId}) ${why}`);
      entry.forget = setTimeout(() => this.forget(workerId, entry), this.options.forgetAfterMs);
      entry.forget.unref();
    });
  }

  /** The rule for one worker's models: its own patterns, else those under `*`; undefined when nothing is configured. */
  private modelsAllowed(workerId: string): ModelRule {
    const rules = this.options.allowedModels;
    if (Object.keys(rules).length === 0) return undefined;
    return { matches: namePatterns(rules[workerId] ?? rules["*"] ?? []), withheld: new Set() };
  }

  /** The models a worker may serve out of those it reports; each one withheld is logged once. */
  private offered<T extends { name: string }>(node: ServerNode, allowed: ModelRule, models: T[]): T[] {
    if (!allowed) return models;
    return models.filter((m) => {
      if (allowed.matches(m.name)) return true;
      if (!allowed.withheld.has(m.name)) {
        allowed.withheld.add(m.name);
        this.log.warn(`worker ${node.name} offers model ${m.name}, which workers.allowed_models does not let it serve: not routed to it`);
      }
      return false;
    });
  }

  private newEntry(workerId: string, name: string, previous: WorkerEntry | undefined): WorkerEntry {
    if (previous) this.forget(workerId, previous);
    const transport = new WorkerTransport(name);
    const node = new ServerNode({ name, url: `worker://${workerId}`, drained: false, source: "worker" }, transport);
    const entry: WorkerEntry = { node, transport };
    this.workers.set(workerId, entry);
    return entry;
  }

  private forget(workerId: string, entry: WorkerEntry): void {
    clearTimeout(entry.forget);
    if (this.workers.get(workerId) === entry) this.workers.delete(workerId);
    if (this.fleet.get(entry.node.name) === entry.node) this.fleet.remove(entry.node.name);
  }

  private handleText(connection: WorkerConnection, node: ServerNode, allowed: ModelRule, text: string): void {
    let value: { type?: unknown } | undefined;
    try {
      value = JSON.parse(text) as { type?: unknown };
    } catch {
      value = undefined;
    }
    const type = value?.type;
    const schema = SCHEMAS[type as keyof typeof SCHEMAS];
    if (!schema) return this.log.warn(`worker ${node.name} sent a message of unknown type ${JSON.stringify(type)}; ignored`);
    const parsed = checkMessage(schema, value);
    if (!parsed.ok) return this.log.warn(`worker ${node.name} sent a bad ${String(type)} message (${parsed.error}); ignored`);
    const message = parsed.value;
    if (message.type === "heartbeat") return this.heartbeat(node, allowed, message);
    connection.handleMessage(message);
  }

  private heartbeat(node: ServerNode, allowed: ModelRule, message: HeartbeatMessage): void {
    let changed = false;
    if (message.max_concurrency !== undefined && message.max_concurrency !== node.spec.max_concurrency) {
      node.spec = { ...node.spec, max_concurrency: message.max_concurrency };
      changed = true;
    }
    if (message.models) {
      const before = modelNames(node.models.values()) + "|" + modelNames(node.loaded.values());
      node.setModels(this.offered(node, allowed, message.models.available as ModelEntry[]));
      node.setLoaded(this.offered(node, allowed, message.models.loaded));
      changed ||= before !== modelNames(node.models.values()) + "|" + modelNames(node.loaded.values());
    }
    // A new reading of the machine is a change too: the live views draw it as it comes.
    changed ||= JSON.stringify(node.system) !== JSON.stringify(message.system);
    node.system = message.system as SystemMetrics | undefined;
    if (changed) this.fleet.changed(node);
  }

  /** Says goodbye to every worker (they reconnect to whichever gateway comes back). */
  close(): void {
    for (const [workerId, entry] of this.workers) {
      entry.transport.connection?.close(CLOSE.goingAway, "the gateway is stopping");
      this.forget(workerId, entry);
    }
    for (const socket of this.sockets) socket.close(CLOSE.goingAway, "the gateway is stopping");
  }
}

function refuse(socket: WebSocket, code: number, reason: string): void {
  try {
    socket.send(JSON.stringify({ type: "error", message: reason }));
  } finally {
    socket.close(code, reason.slice(0, 120));
  }
}

function asBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

function modelNames(entries: Iterable<{ name: string }>): string {
  return [...entries].map((e) => e.name).sort().join(",");
}

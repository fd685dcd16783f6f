import type { ServerKind } from "../config/index.js";
import type { Fleet } from "./fleet.js";
import { baseModelKey, modelKey } from "./model-name.js";
import { onNode, type ModelSwitches } from "./model-switches.js";
import type { ServerNode } from "./node.js";

export interface RouteRequest {
  model: string;
  /** X-Ollama-Pin-Server: only this server. */
  pin?: string;
  /** Conversation key: the server that served it before goes first while it has room. */
  session?: string;
  /** Servers already tried for this request. */
  exclude?: ReadonlySet<string>;
  /** Only servers of this kind (Ollama-only operations). */
  kind?: ServerKind;
}

export interface Choice {
  node: ServerNode;
  /** The model name as this server spells it. */
  upstreamModel: string;
  /** Set when the quantization fallback picked another variant of the model. */
  fallbackFrom?: string;
}

export type Candidates =
  | { ok: true; choices: Choice[] }
  | { ok: false; reason: "unknown_model" | "unavailable" | "pin_unknown" | "pin_unavailable" };

export interface RouterOptions {
  fallbackQuantization: boolean;
  affinity: boolean;
}

/** Seed 003's modes: `distributed` routes across the fleet; `local` to one node only (the embedded engine, or one chosen). */
export type RoutingMode = { mode: "distributed" } | { mode: "local"; node: string };

/** Seed 003's fallback: when no node can serve the model asked for, serve this model, or send it to this node. */
export interface FallbackPolicy {
  enabled: boolean;
  model?: string;
  node?: string;
}

/** Reorders the servers the router ranked for a model (by its key), best first: a plugin's routing strategy. */
export type NodeOrder = (ranked: ServerNode[], key: string) => ServerNode[];

const AFFINITY_MAX = 10_000;

/**
 * Orders the servers that can answer a model: loaded first, then most free
 * VRAM, then least busy, then fastest; ties rotate.
 */
export class Router {
  private rotation = 0;
  private readonly sessions = new Map<string, string>();
  /** In local mode, the one node requests may go to. */
  private onlyNode: string | undefined;
  fallback: FallbackPolicy = { enabled: false };
  /** `routing.strategy`'s order after the built-in ranking; without one, requests pay one check. */
  strategy: NodeOrder | undefined;

  constructor(
    private readonly fleet: Fleet,
    private readonly options: RouterOptions,
    /** Models an admin turned off on a node: the router does not send them there. */
    private readonly switches?: ModelSwitches,
  ) {}

  candidates(req: RouteRequest): Candidates {
    const key = modelKey(req.model);
    if (req.pin !== undefined) return this.pinned(req, key);
    let found = this.eligible(req, key, false);
    if (found.usable.length === 0 && this.options.fallbackQuantization) {
      const fallback = this.eligible(req, baseModelKey(req.model), true);
      if (fallback.usable.length > 0) found = fallback;
    }
    if (found.usable.length === 0) return this.fallBack(req, key) ?? { ok: false, reason: found.known ? "unavailable" : "unknown_model" };
    const matchKey = found.fallback ? baseModelKey(req.model) : key;
    const choices = this.order(found.usable, key).map((node) => choiceFor(node, matchKey, req.model, found.fallback));
    this.preferSession(choices, req.session);
    return { ok: true, choices };
  }

  get mode(): RoutingMode {
    return this.onlyNode === undefined ? { mode: "distributed" } : { mode: "local", node: this.onlyNode };
  }

  set mode(mode: RoutingMode) {
    this.onlyNode = mode.mode === "local" ? mode.node : undefined;
  }

  /** The fallback policy's answer when nothing can serve `key`: another model, or a chosen node. */
  private fallBack(req: RouteRequest, key: string): Candidates | undefined {
    const policy = this.fallback;
    if (!policy.enabled) return undefined;
    if (policy.model !== undefined && modelKey(policy.model) !== key) {
      const alternative = modelKey(policy.model);
      const found = this.eligible(req, alternative, false);
      if (found.usable.length > 0) {
        const choices = this.order(found.usable, alternative).map((node) => ({ node, upstreamModel: node.upstreamName(alternative) ?? policy.model!, fallbackFrom: req.model }));
        return { ok: true, choices };
      }
    }
    const node = policy.node === undefined ? undefined : this.fleet.get(policy.node);
    if (node && this.usable(node, req)) return { ok: true, choices: [{ node, upstreamModel: req.model }] };
    return undefined;
  }

  private usable(node: ServerNode, req: RouteRequest): boolean {
    if (!node.up || node.spec.drained || req.exclude?.has(node.name)) return false;
    if (this.onlyNode !== undefined && node.name !== this.onlyNode) return false;
    return !req.kind || node.kind === req.kind;
  }

  /** Records which server answered a conversation, for its prompt cache. */
  remember(session: string | undefined, server: string): void {
    if (!session || !this.options.affinity) return;
    if (this.sessions.size >= AFFINITY_MAX && !this.sessions.has(session)) {
      this.sessions.delete(this.sessions.keys().next().value as string);
    }
    this.sessions.delete(session);
    this.sessions.set(session, server);
  }

  /** The server a conversation is sticky to, if any. */
  stickyServer(session: string): string | undefined {
    return this.options.affinity ? this.sessions.get(session) : undefined;
  }

  private pinned(req: RouteRequest, key: string): Candidates {
    const node = this.fleet.get(req.pin as string);
    if (!node) return { ok: false, reason: "pin_unknown" };
    if (!node.up || (req.kind && node.kind !== req.kind) || req.exclude?.has(node.name) || (this.onlyNode !== undefined && node.name !== this.onlyNode) || this.switchedOff(node, key)) {
      return { ok: false, reason: "pin_unavailable" };
    }
    return { ok: true, choices: [choiceFor(node, key, req.model, false)] };
  }

  /** Whether an admin turned `key` off on `node`; with nothing turned off, one size check. */
  private switchedOff(node: ServerNode, key: string): boolean {
    const off = this.switches?.off;
    return off !== undefined && off.size !== 0 && off.has(onNode(node.name, key));
  }

  /** A node where the model is turned off counts as not having it. */
  private eligible(req: RouteRequest, key: string, byBase: boolean) {
    const usable: ServerNode[] = [];
    let known = false;
    for (const node of this.fleet.all()) {
      const match = byBase ? baseMatch(node, key) : node.hasModel(key) ? key : undefined;
      if (match === undefined || this.switchedOff(node, byBase ? modelKey(match) : key)) continue;
      known = true;
      if (this.usable(node, req)) usable.push(node);
    }
    return { usable, known, fallback: byBase };
  }

  private order(nodes: ServerNode[], key: string): ServerNode[] {
    const ranked = this.rank(nodes, key);
    return this.strategy === undefined ? ranked : this.strategy(ranked, key);
  }

  private rank(nodes: ServerNode[], key: string): ServerNode[] {
    if (nodes.length < 2) return nodes;
    const turn = this.rotation++;
    const ranked = nodes.map((node, i) => ({ node, tie: (i - turn) % nodes.length }));
    ranked.sort((a, b) => compare(a.node, b.node, key) || positive(a.tie, nodes.length) - positive(b.tie, nodes.length));
    return ranked.map((r) => r.node);
  }

  private preferSession(choices: Choice[], session: string | undefined): void {
    if (!session || !this.options.affinity) return;
    const name = this.sessions.get(session);
    if (!name) return;
    const index = choices.findIndex((c) => c.node.name === name);
    if (index <= 0 || choices[index].node.freeSlots <= 0) return;
    const [sticky] = choices.splice(index, 1);
    choices.unshift(sticky);
  }
}

/** `key` is the model's key, or its base key when the quantization fallback chose. */
function choiceFor(node: ServerNode, key: string, requested: string, byBase: boolean): Choice {
  if (!byBase) return { node, upstreamModel: node.upstreamName(key) ?? requested };
  const name = baseMatch(node, key) as string;
  return { node, upstreamModel: name, fallbackFrom: requested };
}

/** A model on this node with the same base as `base`, preferring a loaded one. */
function baseMatch(node: ServerNode, base: string): string | undefined {
  for (const entry of node.loaded.values()) if (baseModelKey(entry.name) === base) return entry.name;
  for (const entry of node.models.values()) if (baseModelKey(entry.name) === base) return entry.name;
  return undefined;
}

function compare(a: ServerNode, b: ServerNode, key: string): number {
  const loaded = Number(b.loaded.has(key)) - Number(a.loaded.has(key));
  if (loaded) return loaded;
  const va = a.freeVram;
  const vb = b.freeVram;
  if (va !== undefined && vb !== undefined && va !== vb) return vb - va;
  const busy = a.busyRatio - b.busyRatio;
  if (busy) return busy;
  return latencyBucket(a.latencyMs) - latencyBucket(b.latencyMs);
}

const LATENCY_FLOOR_MS = 10;

/**
 * Latencies under 10 ms (a LAN's jitter) count as equal, and above that
 * within ~40% of each other, so near-identical servers rotate.
 */
function latencyBucket(ms: number | undefined): number {
  if (ms === undefined || ms < LATENCY_FLOOR_MS) return 0;
  return 1 + Math.floor(Math.log2(ms / LATENCY_FLOOR_MS) * 2);
}

function positive(n: number, mod: number): number {
  return ((n % mod) + mod) % mod;
}

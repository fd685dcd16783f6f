import type { NotificationChannel } from "../schedule/channel.js";

/**
 * What a plugin module's default export is. `setup` runs once at start, before
 * the gateway listens; what it adds through `api` is in place for the first request.
 */
export interface FlotillaPlugin {
  /** Unique among the loaded plugins: letters, digits, `.`, `_`, `-`, `@`, `/`. */
  name: string;
  version?: string;
  setup(api: PluginApi): void | Promise<void>;
}

/** What a plugin may add. Everything must be added during `setup`. */
export interface PluginApi {
  /** The plugin's own settings: `plugins.options.<name>` in the config ({} when none). */
  readonly options: Readonly<Record<string, unknown>>;
  readonly log: PluginLog;
  /** A routing strategy, chosen by `routing.strategy: <name>`. */
  addStrategy(name: string, strategy: RoutingStrategy): void;
  /** A way of telling people of server events (seed 004's notifications). */
  addChannel(channel: NotificationChannel): void;
  /** Runs before an inference request is routed; may refuse it (`throw api.refuse(...)`) or pin it to a server. */
  beforeRoute(hook: BeforeRouteHook): void;
  /** Runs after each proxied request is recorded; sees the audit record, cannot change it. */
  afterResponse(hook: AfterResponseHook): void;
  /** The error a before-route hook throws to refuse a request: a 4xx in the caller's API shape. */
  refuse(message: string, status?: RefusalStatus): PluginRefusal;
}

export interface PluginLog {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

/** A server that can answer the request, as a strategy sees it (a snapshot, read-only). */
export interface RouteCandidate {
  readonly name: string;
  /** `ollama` or `openai`; undefined until the server was first probed. */
  readonly kind: "ollama" | "openai" | undefined;
  /** The model is loaded there now. */
  readonly loaded: boolean;
  readonly inFlight: number;
  readonly maxConcurrency: number | undefined;
  /** Free slots (Infinity without max_concurrency). */
  readonly freeSlots: number;
  readonly freeVramBytes: number | undefined;
  /** The server's recent response time, when measured. */
  readonly latencyMs: number | undefined;
}

/**
 * Orders the candidates for one request, best first. It is given them in the
 * built-in order (loaded, free VRAM, least busy, fastest) and must answer at
 * once (no promise): it runs inside the router, also while requests wait for a slot.
 * Candidates it leaves out follow in the built-in order; a full server is passed
 * over for the next one.
 */
export type RoutingStrategy = (candidates: readonly RouteCandidate[], request: { readonly model: string }) => readonly RouteCandidate[];

/** An inference request before routing. */
export interface RouteRequestView {
  readonly requestId: string;
  /** The client path without aliases: `/v1/chat/completions`, `/api/chat`, … */
  readonly path: string;
  readonly model: string;
  readonly surface: "openai" | "ollama";
  /** Whom the request counts against: `key:<id>`, `user:<id>` or an address. */
  readonly caller: string;
  readonly keyId: string | undefined;
  readonly userId: string | undefined;
  /** X-Ollama-Source */
  readonly source: string | undefined;
  /** X-Ollama-Pin-Server, if the client sent one. */
  readonly pin: string | undefined;
}

/** Nothing: go on. `{ pin }`: only this server may answer (as X-Ollama-Pin-Server). */
export type BeforeRouteHook = (request: RouteRequestView) => void | { pin?: string } | Promise<void | { pin?: string }>;

/** One finished request as the audit log records it (frozen). */
export interface AuditRecordView {
  readonly requestId: string;
  readonly method: string;
  readonly path: string;
  readonly model: string | undefined;
  /** The server that answered (comma-joined when several did); empty when none did. */
  readonly server: string;
  readonly status: number;
  readonly latencyMs: number;
  readonly ttftMs: number | undefined;
  readonly tokensIn: number | undefined;
  readonly tokensOut: number | undefined;
  readonly retries: number;
  readonly error: string | undefined;
  readonly keyId: string | undefined;
  readonly userId: string | undefined;
  readonly source: string | undefined;
}

/** Errors it throws (or rejects with) are logged, never sent to the client. */
export type AfterResponseHook = (record: AuditRecordView) => void | Promise<void>;

export type RefusalStatus = 400 | 401 | 403 | 404 | 429;

/** A before-route hook's refusal; `api.refuse` makes one. */
export class PluginRefusal extends Error {
  constructor(
    message: string,
    readonly status: RefusalStatus,
    readonly plugin: string,
  ) {
    super(message);
    this.name = "PluginRefusal";
  }
}

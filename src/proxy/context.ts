import type { FastifyRequest } from "fastify";
import type { Config } from "../config/index.js";
import type { FleetService, Priority } from "../fleet/index.js";
import type { Surface } from "../kernel/index.js";
import type { Metrics } from "../observe/metrics.js";
import type { RequestRecord } from "../observe/record.js";
import type { AnswerTap } from "./forward.js";
import type { ClientPath } from "./translate/index.js";
import type { RouteRule } from "../store/index.js";

/** Who is asking and how, fixed when the request arrives. */
export interface CallContext {
  requestId: string;
  surface: Surface;
  keyId?: string;
  /** The user behind the key or session, for the audit log. */
  userId?: string;
  /** Whom the request counts against when servers are shared out (kernel's callerOf). */
  caller: string;
  /** X-Ollama-Source: the calling service, for the audit log. */
  source?: string;
  /** X-Ollama-Pin-Server */
  pin?: string;
  /** Conversation key for server affinity. */
  session?: string;
  priority: Priority;
  method: string;
  /** performance.now() at arrival */
  startedAt: number;
}

export interface RecordedOutcome {
  status: number;
  server: string;
  ttftMs?: number;
  usage?: { prompt_tokens: number; completion_tokens: number };
  error?: string;
}

/** How a request was routed, filled in as its attempts go: for the audit log's routing analytics. */
export interface RouteTrace {
  /** time spent waiting for a slot, over every attempt */
  queueMs: number;
  /** the last chosen server had the model loaded when chosen */
  loaded?: boolean;
  route?: RouteRule;
  /** the failure code of each attempt that was retried */
  retryReasons: string[];
}

export interface ProxyDeps {
  config: Readonly<Config>;
  fleet: FleetService;
  metrics: Metrics;
  /** Audit and metrics for one finished request; never waits on the database. */
  record(record: RequestRecord): void;
  /** What a chat completion may carry beyond plain proxying (a stored conversation). */
  chat?: ChatExtension;
  /** Makes a chat request's `jan_*` and linked images readable upstream (base64 data URLs), giving the body new messages; true when it did. False at once when it has none. */
  inlineImages?(body: Record<string, unknown>, owner: string): Promise<boolean> | false;
  /** Plugins' before-route hooks: may refuse the request (throw) or set `ctx.pin`. Undefined without any: the hot path pays one check. */
  beforeRoute?(ctx: CallContext, path: ClientPath, model: string): Promise<void>;
}

/**
 * Turns a chat completion that names more than the proxy knows (Jan's
 * `conversation`) into the request to send and a tap on its answer.
 * Undefined, with no promise made, for a plain request: the hot path pays one check.
 */
export interface ChatExtension {
  prepare(req: FastifyRequest, body: Record<string, unknown>): Promise<PreparedChat> | undefined;
}

export interface PreparedChat {
  body: Record<string, unknown>;
  tap?: AnswerTap;
  /** Affinity key: a conversation's turns go to the server that has its prompt cached. */
  session?: string;
}

/** Records a finished call: the context it came with, what it was for, and how it ended after `attempts` servers. */
export function recordCall(deps: ProxyDeps, ctx: CallContext, path: string, model: string | undefined, outcome: RecordedOutcome, attempts: number, trace?: RouteTrace): void {
  deps.record({
    requestId: ctx.requestId,
    surface: ctx.surface,
    keyId: ctx.keyId,
    userId: ctx.userId,
    source: ctx.source,
    method: ctx.method,
    path,
    model,
    server: outcome.server,
    status: outcome.status,
    latencyMs: performance.now() - ctx.startedAt,
    ttftMs: outcome.ttftMs,
    usage: outcome.usage,
    error: outcome.error,
    retries: Math.max(0, attempts - 1),
    loaded: outcome.server ? trace?.loaded : undefined,
    route: outcome.server ? trace?.route : undefined,
    retryReasons: trace?.retryReasons,
    queueMs: trace?.queueMs,
  });
}

import type { Surface } from "../kernel/index.js";
import type { RouteRule } from "../store/index.js";
import type { AuditWriter } from "./audit.js";
import type { Metrics } from "./metrics.js";

/** One finished request, as whoever answered it saw it: what the audit log and metrics are made of. */
export interface RequestRecord {
  requestId: string;
  surface: Surface;
  keyId?: string;
  userId?: string;
  source?: string;
  method: string;
  path: string;
  model?: string;
  /** The server (or servers, comma-joined) that answered; empty when none did. */
  server: string;
  status: number;
  latencyMs: number;
  ttftMs?: number;
  usage?: { prompt_tokens: number; completion_tokens: number };
  error?: string;
  retries: number;
  /** The server that answered had the model loaded when it was chosen (undefined: no server, or not known). */
  loaded?: boolean;
  route?: RouteRule;
  /** The failure code of each retried attempt, in order. */
  retryReasons?: readonly string[];
  /** Time spent waiting for a free slot. */
  queueMs?: number;
}

const micros = (ms: number) => Math.round(ms * 1000) / 1000;

/** One finished request → metrics now, an audit row in the next batch. Never waits. */
export function createRecorder(audit: AuditWriter, metrics: Metrics) {
  return function record(r: RequestRecord): void {
    const status = String(r.status);
    metrics.requests.inc({ surface: r.surface, path: r.path, server: r.server, status });
    // A model label only for answered requests: names clients make up must not grow the series without bound.
    const model = r.server && r.model ? r.model : "";
    metrics.duration.observe({ path: r.path, model }, r.latencyMs / 1000);
    if (r.ttftMs !== undefined) metrics.ttft.observe({ server: r.server, model }, r.ttftMs / 1000);
    if (r.queueMs !== undefined) metrics.queueWait.observe({ model }, r.queueMs / 1000);
    if (r.route !== undefined) metrics.routed.inc({ route: r.route, loaded: r.loaded ? "true" : "false" });
    if (r.usage && r.model) {
      metrics.tokens.inc({ model: r.model, direction: "in" }, r.usage.prompt_tokens);
      metrics.tokens.inc({ model: r.model, direction: "out" }, r.usage.completion_tokens);
    }
    audit.record({
      id: r.requestId,
      time: Date.now(),
      key_id: r.keyId ?? null,
      source: r.source ?? null,
      surface: r.surface,
      method: r.method,
      path: r.path,
      model: r.model ?? null,
      server: r.server || null,
      status: r.status,
      latency_ms: micros(r.latencyMs),
      ttft_ms: r.ttftMs === undefined ? null : micros(r.ttftMs),
      tokens_in: r.usage?.prompt_tokens ?? null,
      tokens_out: r.usage?.completion_tokens ?? null,
      retries: r.retries,
      error: r.error ?? null,
      user_id: r.userId ?? null,
      loaded: r.loaded === undefined ? null : r.loaded ? 1 : 0,
      route: r.route ?? null,
      retry_reasons: r.retryReasons?.length ? r.retryReasons.join(",") : null,
      queue_ms: r.queueMs === undefined ? null : micros(r.queueMs),
    });
  };
}

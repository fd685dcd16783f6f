import type { CallContext, RecordedOutcome } from "../proxy/context.js";
import type { AuditWriter } from "./audit.js";
import type { Metrics } from "./metrics.js";

/** One finished request → metrics now, an audit row in the next batch. Never waits. */
export function createRecorder(audit: AuditWriter, metrics: Metrics) {
  return function record(ctx: CallContext, path: string, model: string | undefined, outcome: RecordedOutcome, attempts: number): void {
    const latencyMs = performance.now() - ctx.startedAt;
    const status = String(outcome.status);
    metrics.requests.inc({ surface: ctx.surface, path, server: outcome.server, status });
    metrics.duration.observe({ path }, latencyMs / 1000);
    if (outcome.ttftMs !== undefined) metrics.ttft.observe({ server: outcome.server }, outcome.ttftMs / 1000);
    if (outcome.usage && model) {
      metrics.tokens.inc({ model, direction: "in" }, outcome.usage.prompt_tokens);
      metrics.tokens.inc({ model, direction: "out" }, outcome.usage.completion_tokens);
    }
    audit.record({
      id: ctx.requestId,
      time: Date.now(),
      key_id: ctx.keyId ?? null,
      source: ctx.source ?? null,
      surface: ctx.surface,
      method: ctx.method,
      path,
      model: model ?? null,
      server: outcome.server || null,
      status: outcome.status,
      latency_ms: Math.round(latencyMs * 1000) / 1000,
      ttft_ms: outcome.ttftMs === undefined ? null : Math.round(outcome.ttftMs * 1000) / 1000,
      tokens_in: outcome.usage?.prompt_tokens ?? null,
      tokens_out: outcome.usage?.completion_tokens ?? null,
      retries: Math.max(0, attempts - 1),
      error: outcome.error ?? null,
    });
  };
}

import { FlotillaError, type ErrorCode } from "../kernel/index.js";
import type { RequestRecord } from "../observe/record.js";
import type { CallContext } from "../proxy/index.js";
import { PluginRefusal, type AfterResponseHook, type AuditRecordView, type BeforeRouteHook, type RouteRequestView } from "./api.js";
import type { Added } from "./loader.js";
import type { PluginLogs } from "./log.js";

const REFUSAL_CODES: Record<number, ErrorCode> = { 400: "invalid_request", 401: "unauthorized", 403: "forbidden", 404: "model_not_found", 429: "rate_limited" };
const MAX_PIN_LENGTH = 128;

export type BeforeRoute = (ctx: CallContext, path: string, model: string) => Promise<void>;

/**
 * Runs the before-route hooks in load order; undefined when there are none, so
 * that a request pays one check. A refusal becomes the caller's 4xx; any other
 * throw fails the request (500) rather than let it past a check that broke.
 */
export function beforeRouteRunner(hooks: readonly Added<BeforeRouteHook>[], logs: PluginLogs): BeforeRoute | undefined {
  if (hooks.length === 0) return undefined;
  return async function beforeRoute(ctx, path, model) {
    const request: RouteRequestView = Object.freeze({
      requestId: ctx.requestId,
      path,
      model,
      surface: ctx.surface,
      caller: ctx.caller,
      keyId: ctx.keyId,
      userId: ctx.userId,
      source: ctx.source,
      pin: ctx.pin,
    });
    for (const { plugin, value: hook } of hooks) {
      let decided: void | { pin?: string };
      try {
        decided = await hook(request);
      } catch (err) {
        if (err instanceof PluginRefusal) throw new FlotillaError(REFUSAL_CODES[err.status], err.message, { status: err.status, param: err.status === 404 ? "model" : undefined });
        logs.failed(plugin, "beforeRoute hook", err);
        throw new FlotillaError("internal_error", "internal error", { cause: err });
      }
      const pin = decided?.pin;
      if (typeof pin === "string" && pin.length > 0 && pin.length <= MAX_PIN_LENGTH) ctx.pin = pin;
    }
  };
}

/**
 * The recorder, followed by the after-response hooks with a frozen view of the
 * record; unchanged when there are none. A hook's errors are logged, never raised.
 */
export function withAfterResponse(record: (r: RequestRecord) => void, hooks: readonly Added<AfterResponseHook>[], logs: PluginLogs): (r: RequestRecord) => void {
  if (hooks.length === 0) return record;
  return function recordAndTellPlugins(r) {
    record(r);
    const view = auditView(r);
    for (const { plugin, value: hook } of hooks) {
      try {
        const done = hook(view);
        if (done instanceof Promise) done.catch((err: unknown) => logs.failed(plugin, "afterResponse hook", err));
      } catch (err) {
        logs.failed(plugin, "afterResponse hook", err);
      }
    }
  };
}

function auditView(r: RequestRecord): AuditRecordView {
  return Object.freeze({
    requestId: r.requestId,
    method: r.method,
    path: r.path,
    model: r.model,
    server: r.server,
    status: r.status,
    latencyMs: r.latencyMs,
    ttftMs: r.ttftMs,
    tokensIn: r.usage?.prompt_tokens,
    tokensOut: r.usage?.completion_tokens,
    retries: r.retries,
    error: r.error,
    keyId: r.keyId,
    userId: r.userId,
    source: r.source,
  });
}

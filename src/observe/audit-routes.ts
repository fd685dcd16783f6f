import { Type, type Static } from "@sinclair/typebox";
import type { FastifyInstance } from "fastify";
import { modelKey } from "../fleet/index.js";
import { FlotillaError, isoTime } from "../kernel/index.js";
import type { AuditStats, EventRow, RequestRow, Store, UsageDimension, UsageGroup } from "../store/index.js";

export const HOUR_MS = 3_600_000;
/** The longest window the operations views look back over: 90 days. */
export const MAX_HOURS = 24 * 90;
const MAX_LOAD_EVENTS = 100_000;
const NAME = { minLength: 1, maxLength: 256 };
const Hours = (fallback: number) => Type.Number({ exclusiveMinimum: 0, maximum: MAX_HOURS, default: fallback, description: "How far back to look, in hours" });
export const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);

const RequestsQuery = Type.Object({
  hours: Hours(24),
  key: Type.Optional(Type.String({ ...NAME, description: "API key id" })),
  user: Type.Optional(Type.String({ ...NAME, description: "User id" })),
  source: Type.Optional(Type.String({ ...NAME, description: "X-Ollama-Source of the calling service" })),
  model: Type.Optional(Type.String(NAME)),
  server: Type.Optional(Type.String(NAME)),
  status: Type.Optional(Type.Integer({ minimum: 100, maximum: 599 })),
  limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }),
  cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 512, description: "next_cursor of the previous page" })),
});

const RequestView = Type.Object({
  id: Type.String(),
  time: Type.String(),
  key_id: Nullable(Type.String()),
  user_id: Nullable(Type.String()),
  source: Nullable(Type.String()),
  surface: Type.String(),
  method: Type.String(),
  path: Type.String(),
  model: Nullable(Type.String()),
  server: Nullable(Type.String()),
  status: Type.Integer(),
  latency_ms: Type.Number(),
  ttft_ms: Nullable(Type.Number()),
  queue_ms: Nullable(Type.Number()),
  tokens_in: Nullable(Type.Integer()),
  tokens_out: Nullable(Type.Integer()),
  retries: Type.Integer(),
  retry_reasons: Type.Array(Type.String()),
  loaded: Nullable(Type.Boolean({ description: "The server had the model loaded when it was chosen" })),
  route: Nullable(Type.String({ description: "best, pin, affinity or fallback" })),
  error: Nullable(Type.String()),
});
const RequestPage = Type.Object({ requests: Type.Array(RequestView), next_cursor: Nullable(Type.String()) });

const UsageQuery = Type.Object({ hours: Hours(168) });
const UsageCounts = {
  requests: Type.Integer(),
  errors: Type.Integer(),
  tokens_in: Type.Integer(),
  tokens_out: Type.Integer(),
  busy_ms: Type.Number({ description: "Summed request durations" }),
  requests_per_hour: Type.Number(),
  first_used: Type.String(),
  last_used: Type.String(),
};
const ModelUsage = Type.Object({
  model: Type.String(),
  ...UsageCounts,
  cold_loads: Type.Integer({ description: "Requests sent to a server without the model loaded" }),
  cold_ttft_ms_avg: Nullable(Type.Number({ description: "Their time to first byte, on average: what a cold load cost" })),
  loads: Type.Integer({ description: "Times a server loaded the model" }),
  loaded_ms: Type.Number({ description: "Time the model stayed loaded, summed over servers" }),
});
const UsageView = Type.Object({
  hours: Type.Number(),
  since: Type.String(),
  models: Type.Array(ModelUsage),
  keys: Type.Array(Type.Object({ key_id: Nullable(Type.String()), ...UsageCounts })),
  users: Type.Array(Type.Object({ user_id: Nullable(Type.String()), ...UsageCounts })),
  sources: Type.Array(Type.Object({ source: Nullable(Type.String()), ...UsageCounts })),
});

function requestView(row: RequestRow): Static<typeof RequestView> {
  return {
    id: row.id,
    time: isoTime(row.time),
    key_id: row.key_id,
    user_id: row.user_id,
    source: row.source,
    surface: row.surface,
    method: row.method,
    path: row.path,
    model: row.model,
    server: row.server,
    status: row.status,
    latency_ms: row.latency_ms,
    ttft_ms: row.ttft_ms,
    queue_ms: row.queue_ms,
    tokens_in: row.tokens_in,
    tokens_out: row.tokens_out,
    retries: row.retries,
    retry_reasons: row.retry_reasons ? row.retry_reasons.split(",") : [],
    loaded: row.loaded === null ? null : row.loaded === 1,
    route: row.route,
    error: row.error,
  };
}

/** Seed 004's audit log and usage: who used what, for the operator. `stats` runs the aggregates (off the main thread on SQLite). */
export function registerAuditRoutes(app: FastifyInstance, store: Store, stats: AuditStats): void {
  const tags = ["observe"];
  const config = { auth: "admin" as const };
  app.get(
    "/api/requests",
    { schema: { summary: "The request audit log, newest first, filtered and paged", tags, querystring: RequestsQuery, response: { 200: RequestPage } }, config },
    async function auditLog(req) {
      const q = req.query as Static<typeof RequestsQuery>;
      const rows = await store.audit.listRequests({
        sinceMs: Date.now() - q.hours * HOUR_MS,
        keyId: q.key,
        userId: q.user,
        source: q.source,
        model: q.model,
        server: q.server,
        status: q.status,
        before: q.cursor === undefined ? undefined : decodeCursor(q.cursor),
        limit: q.limit + 1,
      });
      const page = rows.slice(0, q.limit);
      const last = page[page.length - 1];
      return { requests: page.map(requestView), next_cursor: rows.length > q.limit ? encodeCursor(last) : null };
    },
  );
  app.get(
    "/api/usage",
    { schema: { summary: "Usage per model, key, user and source: requests, tokens, busy time, loads, frequency", tags, querystring: UsageQuery, response: { 200: UsageView } }, config },
    async function usage(req) {
      const { hours } = req.query as Static<typeof UsageQuery>;
      const now = Date.now();
      const since = now - hours * HOUR_MS;
      const by = (dimension: UsageDimension) => stats.usageBy(dimension, since);
      const [models, keys, users, sources, events] = await Promise.all([
        by("model"),
        by("key_id"),
        by("user_id"),
        by("source"),
        store.events.list({ sinceMs: since, kinds: ["model_loaded", "model_unloaded"], limit: MAX_LOAD_EVENTS }),
      ]);
      const loads = loadTimes(events, since, now);
      const group = (key: string) => (g: UsageGroup) => ({ [key]: g.name, ...counts(g, hours) });
      return {
        hours,
        since: isoTime(since),
        models: models.filter((g) => g.name !== null).map((g) => ({
          model: g.name as string,
          ...counts(g, hours),
          cold_loads: g.cold_loads,
          cold_ttft_ms_avg: g.cold_ttft_ms_avg,
          loads: loads.get(modelKey(g.name as string))?.loads ?? 0,
          loaded_ms: loads.get(modelKey(g.name as string))?.loadedMs ?? 0,
        })),
        keys: keys.map(group("key_id")),
        users: users.map(group("user_id")),
        sources: sources.map(group("source")),
      };
    },
  );
}

function counts(g: UsageGroup, hours: number) {
  return {
    requests: g.requests,
    errors: g.errors,
    tokens_in: g.tokens_in,
    tokens_out: g.tokens_out,
    busy_ms: g.busy_ms,
    requests_per_hour: g.requests / hours,
    first_used: isoTime(g.first_time),
    last_used: isoTime(g.last_time),
  };
}

/**
 * Loads per model (by its key: "m" and "m:latest" are one), and how long it stayed loaded, from the load and unload
 * events of each server: a model loaded when the window opened counts from
 * then, one still loaded counts until now.
 */
export function loadTimes(events: EventRow[], since: number, now: number): Map<string, { loads: number; loadedMs: number }> {
  const out = new Map<string, { loads: number; loadedMs: number }>();
  const open = new Map<string, number>();
  const sorted = [...events].sort((a, b) => a.time - b.time);
  for (const e of sorted) {
    if (e.model === null) continue;
    const model = modelKey(e.model);
    const totals = out.get(model) ?? { loads: 0, loadedMs: 0 };
    out.set(model, totals);
    const id = `${e.node}\u0000${model}`;
    if (e.kind === "model_loaded") {
      totals.loads++;
      if (!open.has(id)) open.set(id, e.time);
    } else {
      totals.loadedMs += e.time - (open.get(id) ?? since);
      open.delete(id);
    }
  }
  for (const [id, from] of open) (out.get(id.split("\u0000")[1]) as { loadedMs: number }).loadedMs += now - from;
  return out;
}

function encodeCursor(row: RequestRow): string {
  return Buffer.from(JSON.stringify([row.time, row.id])).toString("base64url");
}

function decodeCursor(cursor: string): { time: number; id: string } {
  try {
    const [time, id] = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")) as unknown[];
    if (Number.isSafeInteger(time) && typeof id === "string") return { time: time as number, id };
  } catch {
    // falls through to the error below
  }
  throw new FlotillaError("invalid_request", "cursor is not one this endpoint gave out", { param: "cursor" });
}

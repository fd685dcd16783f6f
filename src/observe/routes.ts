import { Type, type Static } from "@sinclair/typebox";
import type { FastifyInstance } from "fastify";
import type { Fleet } from "../fleet/index.js";
import { FlotillaError, isoTime } from "../kernel/index.js";
import type { EventKind, EventRow, Store, SystemSampleRow } from "../store/index.js";

const HOUR_MS = 3_600_000;
const MODEL_KINDS: EventKind[] = ["model_loaded", "model_unloaded"];
const SERVER_KINDS: EventKind[] = ["server_online", "server_offline", "server_reboot", "node_drained", "node_undrained"];

const EventsQuery = Type.Object({
  hours: Type.Number({ exclusiveMinimum: 0, maximum: 24 * 366, default: 24 }),
  server: Type.Optional(Type.String({ minLength: 1 })),
  limit: Type.Integer({ minimum: 1, maximum: 10_000, default: 1000 }),
});
const EventView = Type.Object({
  id: Type.String(),
  time: Type.String(),
  kind: Type.String(),
  server: Type.String(),
  model: Type.Union([Type.String(), Type.Null()]),
  detail: Type.Union([Type.String(), Type.Null()]),
});
const EventList = Type.Object({ events: Type.Array(EventView) });

const MetricsQuery = Type.Object({ serverId: Type.String({ minLength: 1 }), hours: Type.Number({ exclusiveMinimum: 0, maximum: 24 * 366, default: 24 }) });
const SampleView = Type.Object({
  time: Type.String(),
  cpu: Type.Union([Type.Object({ cores: Type.Union([Type.Integer(), Type.Null()]), load_1m: Type.Union([Type.Number(), Type.Null()]) }), Type.Null()]),
  memory: Type.Union([Type.Object({ total_bytes: Type.Number(), free_bytes: Type.Number() }), Type.Null()]),
  gpus: Type.Union([Type.Array(Type.Record(Type.String(), Type.Unknown())), Type.Null()]),
});

export function eventView(row: EventRow): Static<typeof EventView> {
  return { id: row.id, time: isoTime(row.time), kind: row.kind, server: row.node, model: row.model, detail: row.detail };
}

function sampleView(row: SystemSampleRow): Static<typeof SampleView> {
  return {
    time: isoTime(row.time),
    cpu: row.cpu_cores === null && row.cpu_load_1m === null ? null : { cores: row.cpu_cores, load_1m: row.cpu_load_1m },
    memory: row.memory_total_bytes === null || row.memory_free_bytes === null ? null : { total_bytes: row.memory_total_bytes, free_bytes: row.memory_free_bytes },
    gpus: row.gpus === null ? null : (JSON.parse(row.gpus) as Array<Record<string, unknown>>),
  };
}

/** Seed 004's history views: model and server events, and a node's machine over time. */
export function registerEventRoutes(app: FastifyInstance, store: Store, fleet: Fleet): void {
  const tags = ["fleet"];
  const config = { auth: "member" as const };
  const list = (kinds: EventKind[]) =>
    async function events(req: { query: unknown }) {
      const query = req.query as Static<typeof EventsQuery>;
      const rows = await store.events.list({ sinceMs: Date.now() - query.hours * HOUR_MS, kinds, node: query.server, limit: query.limit });
      return { events: rows.map(eventView) };
    };
  app.get("/api/events", { schema: { summary: "Model load and unload events, newest first", tags, querystring: EventsQuery, response: { 200: EventList } }, config }, list(MODEL_KINDS));
  app.get(
    "/api/server-events",
    { schema: { summary: "Server online, offline, reboot and drain events, newest first", tags, querystring: EventsQuery, response: { 200: EventList } }, config },
    list(SERVER_KINDS),
  );
  app.get(
    "/api/system-metrics",
    {
      schema: { summary: "A node's CPU, memory and GPUs over time", tags, querystring: MetricsQuery, response: { 200: Type.Object({ server: Type.String(), samples: Type.Array(SampleView) }) } },
      config,
    },
    async function systemMetrics(req) {
      const query = req.query as Static<typeof MetricsQuery>;
      const rows = await store.events.samples(query.serverId, Date.now() - query.hours * HOUR_MS);
      if (rows.length === 0 && !fleet.get(query.serverId)) throw new FlotillaError("server_not_found", `no server named "${query.serverId}"`, { param: "serverId" });
      return { server: query.serverId, samples: rows.map(sampleView) };
    },
  );
}

import { randomBytes } from "node:crypto";
import { freemem, totalmem } from "node:os";
import { Type, type Static } from "@sinclair/typebox";
import type { FastifyInstance } from "fastify";
import { FlotillaError, isoTime } from "../kernel/index.js";
import type { FallbackPolicy, RoutingMode } from "./router.js";
import type { FleetService } from "./service.js";

/** This gateway process, as seed 003's metrics name a node. */
const GATEWAY_ID = `gw_${randomBytes(6).toString("hex")}`;

const ModeBody = Type.Object({ mode: Type.Union([Type.Literal("distributed"), Type.Literal("local")]), node: Type.Optional(Type.String({ minLength: 1 })) }, { additionalProperties: false });
const ModeView = Type.Object({ mode: Type.Union([Type.Literal("distributed"), Type.Literal("local")]), node: Type.Union([Type.String(), Type.Null()]) });
const FallbackBody = Type.Object(
  { enabled: Type.Boolean(), model: Type.Optional(Type.String({ minLength: 1 })), node: Type.Optional(Type.String({ minLength: 1 })) },
  { additionalProperties: false },
);
const FallbackView = Type.Object({ enabled: Type.Boolean(), model: Type.Union([Type.String(), Type.Null()]), node: Type.Union([Type.String(), Type.Null()]) });

const ClusterStatus = Type.Object({
  distributed_mode: Type.Boolean(),
  fallback_mode: Type.Boolean(),
  cluster_size: Type.Integer(),
  active_nodes: Type.Array(Type.String()),
  scheduler_stats: Type.Object({ in_flight: Type.Integer(), queued: Type.Integer(), mode: ModeView, fallback: FallbackView }),
  runner_stats: Type.Record(Type.String(), Type.Object({ up: Type.Boolean(), drained: Type.Boolean(), in_flight: Type.Integer(), max_concurrency: Type.Union([Type.Integer(), Type.Null()]), loaded: Type.Array(Type.String()) })),
  integration_stats: Type.Object({ servers: Type.Integer(), workers: Type.Integer(), embedded: Type.Integer() }),
});

const ClusterMetrics = Type.Object({
  timestamp: Type.String(),
  node_id: Type.String(),
  connected_peers: Type.Integer({ description: "dial-in workers connected now" }),
  is_leader: Type.Boolean({ description: "replicas have no leader; always true of the replica answering" }),
  requests_processed: Type.Integer(),
  requests_in_flight: Type.Integer(),
  models_loaded: Type.Integer(),
  nodes_total: Type.Integer(),
  nodes_online: Type.Integer(),
  uptime: Type.Integer({ description: "seconds" }),
  cpu_usage: Type.Number({ description: "this process, share of one core since the last call" }),
  memory_usage: Type.Number({ description: "share of the machine's memory in use" }),
  network_usage: Type.Number(),
  websocket_connections: Type.Integer(),
});

const InFlightView = Type.Object({ id: Type.String(), model: Type.String(), node: Type.String(), priority: Type.String(), key_id: Type.Union([Type.String(), Type.Null()]), started_at: Type.String(), elapsed_ms: Type.Integer() });

const modeView = (mode: RoutingMode): Static<typeof ModeView> => ({ mode: mode.mode, node: mode.mode === "local" ? mode.node : null });
const fallbackView = (f: FallbackPolicy): Static<typeof FallbackView> => ({ enabled: f.enabled, model: f.model ?? null, node: f.node ?? null });

/** Seed 003's cluster views and switches: status, metrics, requests in flight, stats, routing mode and fallback. */
export function registerClusterRoutes(app: FastifyInstance, service: FleetService, requestsProcessed: () => Promise<number>, embeddedName: string): void {
  const tags = ["fleet"];
  const read = { auth: "member" as const };
  const { fleet, router, admission, requests } = service;

  const status = async function clusterStatus(): Promise<Static<typeof ClusterStatus>> {
    const nodes = fleet.all();
    const runners: Static<typeof ClusterStatus>["runner_stats"] = {};
    for (const n of nodes) runners[n.name] = { up: n.up, drained: n.spec.drained, in_flight: n.inFlight, max_concurrency: n.spec.max_concurrency ?? null, loaded: [...n.loaded.values()].map((m) => m.name) };
    return {
      distributed_mode: router.mode.mode === "distributed",
      fallback_mode: router.fallback.enabled,
      cluster_size: nodes.length,
      active_nodes: nodes.filter((n) => n.up && !n.spec.drained).map((n) => n.name),
      scheduler_stats: { in_flight: requests.size, queued: admission.waiting, mode: modeView(router.mode), fallback: fallbackView(router.fallback) },
      runner_stats: runners,
      integration_stats: {
        servers: nodes.filter((n) => n.polled).length,
        workers: nodes.filter((n) => n.transport.via === "worker").length,
        embedded: nodes.filter((n) => n.transport.via === "embedded").length,
      },
    };
  };
  app.get("/api/distributed/status", { schema: { summary: "The cluster at a glance", tags, response: { 200: ClusterStatus } }, config: read }, status);
  app.get("/api/v1/cluster/status", { schema: { summary: "The cluster at a glance", tags, response: { 200: ClusterStatus } }, config: read }, status);

  let lastCpu = { at: performance.now(), usage: process.cpuUsage() };
  app.get("/api/distributed/metrics", { schema: { summary: "Cluster metrics as JSON (Prometheus text is at /metrics)", tags, response: { 200: ClusterMetrics } }, config: read }, async function clusterMetrics() {
    const nodes = fleet.all();
    const now = { at: performance.now(), usage: process.cpuUsage() };
    const cpuMs = (now.usage.user + now.usage.system - lastCpu.usage.user - lastCpu.usage.system) / 1000;
    const cpu = cpuMs / Math.max(1, now.at - lastCpu.at);
    lastCpu = now;
    const workers = nodes.filter((n) => n.transport.via === "worker" && n.up).length;
    return {
      timestamp: new Date().toISOString(),
      node_id: GATEWAY_ID,
      connected_peers: workers,
      is_leader: true,
      requests_processed: await requestsProcessed(),
      requests_in_flight: requests.size,
      models_loaded: nodes.reduce((sum, n) => sum + n.loaded.size, 0),
      nodes_total: nodes.length,
      nodes_online: nodes.filter((n) => n.up).length,
      uptime: Math.round(process.uptime()),
      cpu_usage: Math.round(cpu * 1000) / 1000,
      memory_usage: Math.round((1 - freemem() / totalmem()) * 1000) / 1000,
      network_usage: 0,
      websocket_connections: workers,
    };
  });

  app.get(
    "/api/distributed/requests",
    { schema: { summary: "Requests being answered now, and where", tags, response: { 200: Type.Object({ requests: Type.Array(InFlightView) }) } }, config: read },
    async function requestsNow() {
      const now = Date.now();
      return {
        requests: requests.list().map((r) => ({ id: r.id, model: r.model, node: r.node, priority: r.priority, key_id: r.keyId ?? null, started_at: isoTime(r.startedAt), elapsed_ms: now - r.startedAt })),
      };
    },
  );

  app.get(
    "/admin/stats",
    {
      schema: {
        summary: "Gateway statistics",
        tags: ["admin"],
        response: { 200: Type.Object({ uptime_s: Type.Integer(), requests_processed: Type.Integer(), in_flight: Type.Integer(), queued: Type.Integer(), nodes_total: Type.Integer(), nodes_online: Type.Integer(), models_total: Type.Integer(), models_loaded: Type.Integer(), mode: ModeView, fallback: FallbackView }) },
      },
      config: { auth: "admin" },
    },
    async function adminStats() {
      const nodes = fleet.all();
      const models = new Set<string>();
      for (const n of nodes) for (const key of n.models.keys()) models.add(key);
      return {
        uptime_s: Math.round(process.uptime()),
        requests_processed: await requestsProcessed(),
        in_flight: requests.size,
        queued: admission.waiting,
        nodes_total: nodes.length,
        nodes_online: nodes.filter((n) => n.up).length,
        models_total: models.size,
        models_loaded: nodes.reduce((sum, n) => sum + n.loaded.size, 0),
        mode: modeView(router.mode),
        fallback: fallbackView(router.fallback),
      };
    },
  );

  app.post(
    "/admin/mode",
    { schema: { summary: "Route across the fleet (distributed), or to one node only (local: the embedded engine unless `node` says)", tags: ["admin"], body: ModeBody, response: { 200: ModeView } }, config: { auth: "admin" } },
    async function setMode(req) {
      const body = req.body as Static<typeof ModeBody>;
      if (body.mode === "distributed") {
        await service.setMode({ mode: "distributed" });
        return modeView(router.mode);
      }
      const node = body.node ?? embeddedName;
      if (!fleet.get(node)) throw new FlotillaError("server_not_found", body.node ? `no node named "${node}"` : "local mode needs a node: this gateway runs no embedded engine", { param: "node" });
      await service.setMode({ mode: "local", node });
      return modeView(router.mode);
    },
  );

  app.post(
    "/admin/fallback",
    { schema: { summary: "When no node has the model asked for, serve another model or send to a chosen node", tags: ["admin"], body: FallbackBody, response: { 200: FallbackView } }, config: { auth: "admin" } },
    async function setFallback(req) {
      const body = req.body as Static<typeof FallbackBody>;
      const policy: FallbackPolicy = { enabled: body.enabled, model: body.model ?? router.fallback.model, node: body.node ?? router.fallback.node };
      if (policy.enabled && policy.model === undefined && policy.node === undefined) throw new FlotillaError("invalid_request", "say which model or node to fall back to", { param: "model" });
      if (policy.node !== undefined && !fleet.get(policy.node)) throw new FlotillaError("server_not_found", `no node named "${policy.node}"`, { param: "node" });
      await service.setFallback(policy);
      return fallbackView(router.fallback);
    },
  );
}

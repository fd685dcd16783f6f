import { Type } from "@sinclair/typebox";
import type { FastifyInstance } from "fastify";
import type { Fleet } from "../fleet/index.js";
import type { Metrics } from "../observe/metrics.js";
import { BUILD } from "../kernel/index.js";

const Health = Type.Object({
  status: Type.Union([Type.Literal("healthy"), Type.Literal("degraded")]),
  timestamp: Type.String(),
  version: Type.String(),
  uptime: Type.Number({ description: "seconds" }),
  services: Type.Object({ database: Type.Boolean(), servers_total: Type.Integer(), servers_up: Type.Integer() }),
  available_nodes: Type.Integer(),
});

const Version = Type.Object({
  version: Type.String(),
  build_date: Type.String(),
  git_commit: Type.String(),
  node_version: Type.String(),
});

export function registerSystemRoutes(app: FastifyInstance, fleet: Fleet, metrics: Metrics): void {
  const config = { auth: "public" as const };
  const tags = ["system"];

  const health = async function health() {
    const nodes = fleet.all();
    const up = nodes.filter((n) => n.up).length;
    return {
      status: nodes.length === 0 || up > 0 ? ("healthy" as const) : ("degraded" as const),
      timestamp: new Date().toISOString(),
      version: BUILD.version,
      uptime: Math.round(process.uptime()),
      services: { database: true, servers_total: nodes.length, servers_up: up },
      available_nodes: up,
    };
  };
  for (const url of ["/healthz", "/health"]) {
    app.get(url, { schema: { summary: "Health", tags, response: { 200: Health } }, config }, health);
  }

  for (const url of ["/api/version", "/api/v1/version"]) {
    app.get(url, { schema: { summary: "Version and build", tags, response: { 200: Version } }, config }, async function version() {
      return BUILD;
    });
  }

  app.get("/metrics", { schema: { summary: "Prometheus metrics", tags }, config }, async function prometheus(_req, reply) {
    return reply.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });

  app.get("/swagger/index.html", { schema: { hide: true }, config }, async function swaggerRedirect(_req, reply) {
    return reply.redirect("/api/client/", 301);
  });
}

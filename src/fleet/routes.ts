import { Type } from "@sinclair/typebox";
import type { FastifyInstance } from "fastify";
import { ServerSpecSchema, type ServerSpecInput } from "../config/index.js";
import { FlotillaError, isoTime } from "../kernel/index.js";
import type { ServerNode } from "./node.js";
import { SystemMetrics } from "./system-metrics.js";
import type { FleetService } from "./service.js";

export const ServerView = Type.Object({
  name: Type.String(),
  url: Type.String(),
  /** A polled server's API, or `worker` / `embedded` for nodes that are not polled. */
  kind: Type.Union([Type.Literal("ollama"), Type.Literal("openai"), Type.Literal("worker"), Type.Literal("embedded"), Type.Null()]),
  /** The API the node speaks: what requests to it are translated to. */
  api: Type.Union([Type.Literal("ollama"), Type.Literal("openai"), Type.Null()]),
  source: Type.String(),
  up: Type.Boolean(),
  drained: Type.Boolean(),
  has_api_key: Type.Boolean(),
  max_concurrency: Type.Union([Type.Integer(), Type.Null()]),
  vram_bytes: Type.Union([Type.Integer(), Type.Null()]),
  in_flight: Type.Integer(),
  latency_ms: Type.Union([Type.Number(), Type.Null()]),
  version: Type.Union([Type.String(), Type.Null()]),
  last_seen: Type.Union([Type.String(), Type.Null()]),
  last_error: Type.Union([Type.String(), Type.Null()]),
  models: Type.Array(Type.String()),
  loaded: Type.Array(Type.String()),
  system: Type.Optional(SystemMetrics),
});

/** A node as the admin API shows it; the upstream api_key never leaves the gateway. */
export function serverView(node: ServerNode) {
  return {
    name: node.name,
    url: node.spec.url,
    kind: node.polled ? (node.kind ?? null) : node.transport.via,
    api: node.kind ?? null,
    source: node.spec.source,
    up: node.up,
    drained: node.spec.drained,
    has_api_key: Boolean(node.spec.api_key),
    max_concurrency: node.spec.max_concurrency ?? null,
    vram_bytes: node.spec.vram_bytes ?? null,
    in_flight: node.inFlight,
    latency_ms: node.latencyMs === undefined ? null : Math.round(node.latencyMs * 100) / 100,
    version: node.version ?? null,
    last_seen: node.lastSeen ? isoTime(node.lastSeen) : null,
    last_error: node.lastError ?? null,
    models: [...node.models.values()].map((m) => m.name),
    loaded: [...node.loaded.values()].map((m) => m.name),
    ...(node.system ? { system: node.system } : {}),
  };
}

const NameParams = Type.Object({ name: Type.String({ minLength: 1 }) });
const ServerUpdate = Type.Partial(Type.Omit(ServerSpecSchema, ["name"]), { additionalProperties: false });

export function registerFleetRoutes(app: FastifyInstance, service: FleetService): void {
  const config = { auth: "admin" as const };
  const tags = ["admin"];
  const find = (name: string) => {
    const node = service.fleet.get(name);
    if (!node) throw new FlotillaError("server_not_found", `no server named "${name}"`);
    return node;
  };
  /** Workers and the engine come and go with their connection or process, not through this API. */
  const findStored = (name: string) => {
    const node = find(name);
    if (node.spec.source === "worker" || node.spec.source === "embedded") {
      throw new FlotillaError("conflict", `"${name}" is ${node.spec.source === "worker" ? "a dial-in worker" : "the embedded engine"}; it is not changed through this API`);
    }
    return node as ServerNode & { spec: { source: "config" | "api" } };
  };

  app.get(
    "/admin/servers",
    { schema: { summary: "Servers in the fleet", tags, response: { 200: Type.Object({ servers: Type.Array(ServerView) }) } }, config },
    async function listServers() {
      return { servers: service.fleet.all().map(serverView) };
    },
  );

  app.get(
    "/admin/servers/:name",
    { schema: { summary: "One server", tags, params: NameParams, response: { 200: ServerView } }, config },
    async function getServer(req) {
      return serverView(find((req.params as { name: string }).name));
    },
  );

  app.post(
    "/admin/servers",
    { schema: { summary: "Add a server (kept in the database)", tags, body: ServerSpecSchema, response: { 201: ServerView } }, config },
    async function addServer(req, reply) {
      const input = req.body as ServerSpecInput;
      if (service.fleet.get(input.name)) throw new FlotillaError("conflict", `a server named "${input.name}" exists; use PUT to change it`);
      return reply.code(201).send(serverView(await service.upsertServer(input)));
    },
  );

  app.put(
    "/admin/servers/:name",
    { schema: { summary: "Change a server", tags, params: NameParams, body: ServerUpdate, response: { 200: ServerView } }, config },
    async function updateServer(req) {
      const node = findStored((req.params as { name: string }).name);
      const { drained: _drained, source: _source, ...current } = node.spec;
      const changed = { ...current, ...(req.body as Partial<ServerSpecInput>), name: node.name };
      return serverView(await service.upsertServer(changed, node.spec.source));
    },
  );

  app.delete(
    "/admin/servers/:name",
    { schema: { summary: "Remove a server", tags, params: NameParams }, config },
    async function removeServer(req, reply) {
      const name = (req.params as { name: string }).name;
      findStored(name);
      await service.removeServer(name);
      return reply.code(204).send();
    },
  );

  app.post(
    "/api/poll",
    { schema: { summary: "Poll every server now", tags, response: { 200: Type.Object({ servers: Type.Array(ServerView) }) } }, config },
    async function pollNow() {
      await service.poller.pollAll();
      return { servers: service.fleet.all().map(serverView) };
    },
  );
}

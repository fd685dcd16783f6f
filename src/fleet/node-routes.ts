import { Type, type Static } from "@sinclair/typebox";
import type { FastifyInstance } from "fastify";
import { FlotillaError } from "../kernel/index.js";
import type { ServerNode } from "./node.js";
import { serverView, ServerView } from "./routes.js";
import type { FleetService } from "./service.js";

const NodeStatus = Type.Union([Type.Literal("active"), Type.Literal("draining"), Type.Literal("drained"), Type.Literal("offline")]);

/** Seed 003's node, with the fleet's own fields beside its id, status, address, models and resources. */
export const NodeView = Type.Object({
  id: Type.String(),
  status: NodeStatus,
  address: Type.String(),
  models: Type.Array(Type.String()),
  loaded: Type.Array(Type.String()),
  resources: Type.Object({
    /** load average over cores, 0–1+ */
    cpu: Type.Union([Type.Number(), Type.Null()]),
    /** memory in use, 0–1 */
    memory: Type.Union([Type.Number(), Type.Null()]),
    /** disk in use, 0–1 */
    disk: Type.Union([Type.Number(), Type.Null()]),
    /** VRAM in use, 0–1: the GPUs a worker reports, else loaded models against the declared vram_bytes */
    vram: Type.Union([Type.Number(), Type.Null()]),
  }),
  kind: ServerView.properties.kind,
  api: ServerView.properties.api,
  drained: Type.Boolean(),
  in_flight: Type.Integer(),
  max_concurrency: Type.Union([Type.Integer(), Type.Null()]),
  version: Type.Union([Type.String(), Type.Null()]),
  last_seen: Type.Union([Type.String(), Type.Null()]),
  last_error: Type.Union([Type.String(), Type.Null()]),
});

function status(node: ServerNode): Static<typeof NodeStatus> {
  if (!node.up) return "offline";
  if (!node.spec.drained) return "active";
  return node.inFlight > 0 ? "draining" : "drained";
}

const round = (n: number) => Math.round(n * 1000) / 1000;

/** VRAM in use: the GPUs as the machine reports them, else what loaded models take of the declared total. */
function vramInUse(node: ServerNode): number | null {
  const gpus = node.system?.gpus;
  if (gpus && gpus.length > 0) {
    const total = gpus.reduce((sum, g) => sum + g.memory_total_bytes, 0);
    return total > 0 ? round(gpus.reduce((sum, g) => sum + g.memory_used_bytes, 0) / total) : null;
  }
  const total = node.spec.vram_bytes;
  const free = node.freeVram;
  return total && free !== undefined ? round(Math.min(1, Math.max(0, 1 - free / total))) : null;
}

export function nodeView(node: ServerNode): Static<typeof NodeView> {
  const view = serverView(node);
  const cpu = node.system?.cpu;
  const memory = node.system?.memory;
  const disk = node.system?.disk;
  return {
    id: node.name,
    status: status(node),
    address: view.url,
    models: view.models,
    loaded: view.loaded,
    resources: {
      cpu: cpu && cpu.cores > 0 ? round(cpu.load_1m / cpu.cores) : null,
      memory: memory && memory.total_bytes > 0 ? round(1 - memory.free_bytes / memory.total_bytes) : null,
      disk: disk && disk.total_bytes > 0 ? round(1 - disk.free_bytes / disk.total_bytes) : null,
      vram: vramInUse(node),
    },
    kind: view.kind as Static<typeof NodeView>["kind"],
    api: view.api,
    drained: view.drained,
    in_flight: view.in_flight,
    max_concurrency: view.max_concurrency,
    version: view.version,
    last_seen: view.last_seen,
    last_error: view.last_error,
  };
}

const IdParams = Type.Object({ id: Type.String({ minLength: 1 }) });
const NodeList = Type.Object({ nodes: Type.Array(NodeView) });

/** Seed 003's node API and seed 004's server list: every node, servers and workers alike; drain and undrain. */
export function registerNodeRoutes(app: FastifyInstance, service: FleetService): void {
  const tags = ["fleet"];
  const find = (id: string) => {
    const node = service.fleet.get(id);
    if (!node) throw new FlotillaError("server_not_found", `no node named "${id}"`, { param: "id" });
    return node;
  };
  const listNodes = async function listNodes() {
    return { nodes: service.fleet.all().map(nodeView) };
  };
  const read = { auth: "member" as const };
  app.get("/api/v1/nodes", { schema: { summary: "Every node and its status", tags, response: { 200: NodeList } }, config: read }, listNodes);
  app.get("/api/distributed/nodes", { schema: { summary: "Every node and its status", tags, response: { 200: NodeList } }, config: read }, listNodes);
  app.get(
    "/api/servers",
    { schema: { summary: "Servers with their latest machine metrics and loaded models", tags, response: { 200: Type.Object({ servers: Type.Array(ServerView) }) } }, config: read },
    async function listServers() {
      return { servers: service.fleet.all().map(serverView) };
    },
  );
  app.get("/api/v1/nodes/:id", { schema: { summary: "One node", tags, params: IdParams, response: { 200: NodeView } }, config: read }, async function getNode(req) {
    return nodeView(find((req.params as { id: string }).id));
  });

  for (const [verb, drained] of [["drain", true], ["undrain", false]] as const) {
    app.post(
      `/api/v1/nodes/:id/${verb}`,
      {
        schema: {
          summary: drained ? "Drain a node: no new requests; those in flight finish" : "Undrain a node: it takes requests again",
          tags,
          params: IdParams,
          response: { 200: NodeView },
        },
        config: { auth: "admin" },
      },
      async function setDrained(req) {
        const node = find((req.params as { id: string }).id);
        return nodeView((await service.setDrained(node.name, drained)) ?? node);
      },
    );
  }
}

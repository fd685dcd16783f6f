import { Type, type Static } from "@sinclair/typebox";
import type { FastifyInstance } from "fastify";
import { bodyMayBeOmitted, FlotillaError, isoTime } from "../kernel/index.js";
import type { TransferRow } from "../store/index.js";
import { fleetModels } from "./fleet-models.js";
import type { ModelManager } from "./model-manager.js";
import { modelKey } from "./model-name.js";
import type { Fleet } from "./fleet.js";

export const TransferView = Type.Object({
  id: Type.String(),
  model: Type.String(),
  node: Type.String(),
  source: Type.String(),
  status: Type.Union([Type.Literal("running"), Type.Literal("completed"), Type.Literal("failed"), Type.Literal("cancelled")]),
  stage: Type.Union([Type.String(), Type.Null()]),
  completed_bytes: Type.Number(),
  total_bytes: Type.Number(),
  percent: Type.Number(),
  error: Type.Union([Type.String(), Type.Null()]),
  created_at: Type.String(),
  updated_at: Type.String(),
});

export function transferView(row: TransferRow): Static<typeof TransferView> {
  const percent = row.status === "completed" ? 100 : row.total_bytes > 0 ? Math.floor((row.completed_bytes / row.total_bytes) * 1000) / 10 : 0;
  return {
    id: row.id,
    model: row.model,
    node: row.node,
    source: row.source,
    status: row.status,
    stage: row.stage,
    completed_bytes: row.completed_bytes,
    total_bytes: row.total_bytes,
    percent,
    error: row.error,
    created_at: isoTime(row.created_at),
    updated_at: isoTime(row.updated_at),
  };
}

/** Bytes as seed 003 writes them: "3.8GB". */
function humanSize(bytes: number | undefined): string | null {
  if (!bytes) return null;
  const units = ["B", "KB", "MB", "GB", "TB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${value >= 10 || unit === 0 ? Math.round(value) : value.toFixed(1)}${units[unit]}`;
}

const NameParams = Type.Object({ name: Type.String({ minLength: 1 }) });
const IdParams = Type.Object({ id: Type.String({ minLength: 1 }) });
const DownloadBody = Type.Object({ node: Type.Optional(Type.String({ minLength: 1 })) }, { additionalProperties: false });
const DesiredBody = Type.Object({ replicas: Type.Integer({ minimum: 0, maximum: 1000 }) }, { additionalProperties: false });
const MigrateBody = Type.Object({ model_name: Type.String({ minLength: 1 }), from_node: Type.String({ minLength: 1 }), to_node: Type.String({ minLength: 1 }) }, { additionalProperties: false });
const ReplicaView = Type.Object({ node: Type.String(), status: Type.String(), loaded: Type.Boolean(), size_bytes: Type.Union([Type.Number(), Type.Null()]), digest: Type.Union([Type.String(), Type.Null()]), modified_at: Type.Union([Type.String(), Type.Null()]) });
const DistributedModel = Type.Object({
  name: Type.String(),
  replicas: Type.Integer(),
  nodes: Type.Array(Type.String()),
  loaded_on: Type.Array(Type.String()),
  size_bytes: Type.Union([Type.Number(), Type.Null()]),
  total_size: Type.Union([Type.String(), Type.Null()]),
  desired_replicas: Type.Union([Type.Integer(), Type.Null()]),
  status: Type.Union([Type.Literal("ready"), Type.Literal("transferring"), Type.Literal("unavailable")]),
});
const ReplicationState = Type.Object({
  name: Type.String(),
  desired: Type.Union([Type.Integer(), Type.Null()]),
  actual: Type.Integer(),
  nodes: Type.Array(Type.String()),
  transferring: Type.Array(Type.String()),
  status: Type.String(),
});
const Actions = Type.Object({ actions: Type.Array(Type.Object({ model: Type.String(), action: Type.String(), node: Type.String(), transfer_id: Type.Optional(Type.String()), error: Type.Optional(Type.String()) })) });

/** Seed 003's model management across the fleet: where models are, downloads, removal, transfers, replication, migration. */
export function registerModelRoutes(app: FastifyInstance, fleet: Fleet, models: ModelManager): void {
  const tags = ["fleet"];
  const read = { auth: "member" as const };
  const admin = { auth: "admin" as const };
  const { transfers } = models;

  app.get("/api/distributed/models", { schema: { summary: "Every model, its replicas and where they are", tags, response: { 200: Type.Object({ models: Type.Array(DistributedModel) }) } }, config: read }, async function distributedModels() {
    const replication = new Map((await models.replication()).map((r) => [modelKey(r.name), r]));
    const all = fleetModels(fleet.all().filter((n) => n.up));
    return {
      models: [...all.entries()].map(([key, m]) => {
        const state = replication.get(key);
        return {
          name: m.name,
          replicas: m.servers.length,
          nodes: m.servers,
          loaded_on: m.loadedOn,
          size_bytes: m.size ?? null,
          total_size: humanSize(m.size),
          desired_replicas: state?.desired ?? null,
          status: state && state.transferring.length > 0 ? ("transferring" as const) : ("ready" as const),
        };
      }),
    };
  });

  app.get(
    "/api/distributed/models/:name/replicas",
    { schema: { summary: "Where one model's copies are", tags, params: NameParams, response: { 200: Type.Object({ model: Type.String(), desired: Type.Union([Type.Integer(), Type.Null()]), replicas: Type.Array(ReplicaView) }) } }, config: read },
    async function replicas(req) {
      const { name } = req.params as { name: string };
      const key = modelKey(name);
      const replicas = fleet.all().flatMap((node) => {
        const entry = node.models.get(key);
        if (!entry) return [];
        const status = !node.up ? "offline" : node.spec.drained ? "drained" : "online";
        return [{ node: node.name, status, loaded: node.loaded.has(key), size_bytes: entry.size ?? null, digest: entry.digest ?? null, modified_at: entry.modified_at ?? null }];
      });
      const desired = (await models.replication()).find((r) => modelKey(r.name) === key)?.desired ?? null;
      if (replicas.length === 0 && desired === null) throw new FlotillaError("model_not_found", `model "${name}" is on no node`, { param: "name" });
      return { model: name, desired, replicas };
    },
  );

  app.put(
    "/api/distributed/models/:name/replicas",
    { schema: { summary: "Set how many copies of a model the fleet should keep (a rebalance makes it so)", tags, params: NameParams, body: DesiredBody, response: { 200: ReplicationState } }, config: admin },
    async function setDesired(req) {
      const { name } = req.params as { name: string };
      await models.setDesired(name, (req.body as Static<typeof DesiredBody>).replicas);
      return (await models.replication()).find((r) => modelKey(r.name) === modelKey(name)) as Static<typeof ReplicationState>;
    },
  );

  app.get("/api/distributed/replication/status", { schema: { summary: "Desired against actual copies of each model", tags, response: { 200: Type.Object({ models: Type.Array(ReplicationState) }) } }, config: read }, async function replicationStatus() {
    return { models: await models.replication() };
  });

  const rebalance = async function rebalance() {
    return { actions: await models.rebalance() };
  };
  app.post("/api/distributed/rebalance", { schema: { summary: "Pull or remove copies until each model has its desired count", tags, response: { 200: Actions } }, config: admin }, rebalance);
  app.post("/admin/rebalance", { schema: { summary: "Pull or remove copies until each model has its desired count", tags: ["admin"], response: { 200: Actions } }, config: admin }, rebalance);

  app.post(
    "/api/distributed/migrate",
    { schema: { summary: "Copy a model to a node, then remove it from another", tags, body: MigrateBody, response: { 202: TransferView } }, config: admin },
    async function migrate(req, reply) {
      const body = req.body as Static<typeof MigrateBody>;
      const { row } = await models.migrate(body.model_name, body.from_node, body.to_node);
      return reply.code(202).send(transferView(row));
    },
  );

  app.post(
    "/api/v1/models/:name/download",
    {
      schema: { summary: "Pull a model onto a node (the best one unless `node` says)", tags, params: NameParams, body: DownloadBody, response: { 202: TransferView } },
      preValidation: bodyMayBeOmitted,
      config: admin,
    },
    async function download(req, reply) {
      const { name } = req.params as { name: string };
      const { row } = await models.download(name, (req.body as Static<typeof DownloadBody>).node);
      return reply.code(202).send(transferView(row));
    },
  );

  app.delete(
    "/api/v1/models/*",
    { schema: { summary: "Remove a model from every node that has it", tags, response: { 200: Type.Object({ model: Type.String(), deleted_from: Type.Array(Type.String()) }) } }, config: admin },
    async function removeModel(req) {
      // The router has decoded the path once already: a `%` in it is a `%` in the name.
      const name = (req.params as { "*": string })["*"];
      const nodes = models.holders(name);
      if (nodes.length === 0) throw new FlotillaError("model_not_found", `model "${name}" is on no online node`, { param: "name" });
      return { model: name, deleted_from: await models.remove(name, nodes) };
    },
  );

  app.get("/api/v1/transfers", { schema: { summary: "Model transfers, newest first", tags, response: { 200: Type.Object({ transfers: Type.Array(TransferView) }) } }, config: read }, async function listTransfers() {
    return { transfers: (await transfers.list()).map(transferView) };
  });
  const find = async (id: string) => {
    const row = await transfers.get(id);
    if (!row) throw new FlotillaError("not_found", `no transfer with id "${id}"`, { param: "id" });
    return row;
  };
  app.get("/api/v1/transfers/:id", { schema: { summary: "One transfer and its progress", tags, params: IdParams, response: { 200: TransferView } }, config: read }, async function getTransfer(req) {
    return transferView(await find((req.params as { id: string }).id));
  });
  app.delete("/api/v1/transfers/:id", { schema: { summary: "Cancel a transfer", tags, params: IdParams, response: { 200: TransferView } }, config: admin }, async function cancelTransfer(req) {
    const { id } = req.params as { id: string };
    await find(id);
    return transferView((await transfers.cancel(id)) as TransferRow);
  });
}

import { Type } from "@sinclair/typebox";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { fleetModels, modelKey, type FleetModel, type ServerNode } from "../fleet/index.js";
import { FlotillaError } from "../kernel/index.js";
import type { ProxyDeps } from "./context.js";
import { OllamaPsResponse, OllamaTagsResponse, OpenAIModel, OpenAIModelList } from "./schemas.js";

/** Asks every online server now, so a model pulled a moment ago is listed. */
async function refreshOnline(deps: ProxyDeps): Promise<ServerNode[]> {
  await deps.fleet.poller.pollOnline();
  return deps.fleet.fleet.all().filter((n) => n.up);
}

/**
 * A model an admin turned off, to a caller who is not an admin: what OpenAI answers for a
 * model the key may not use (404 `model_not_found`, "does not exist or you do not have
 * access to it"), which neither confirms nor denies that it is there.
 */
export function modelRefused(model: string): FlotillaError {
  return new FlotillaError("model_not_found", `The model \`${model}\` does not exist or you do not have access to it.`, { param: "model" });
}

/** Whether the caller sees `name`: admins see every model, others not those an admin turned off. */
function seesModel(deps: ProxyDeps, req: FastifyRequest, name: string): boolean {
  return !deps.fleet.switches.hides(name) || req.principal?.role === "admin";
}

function openAIModel(model: FleetModel) {
  const created = model.modified_at ? Math.floor(Date.parse(model.modified_at) / 1000) || 0 : 0;
  return { id: model.name, object: "model" as const, created, owned_by: "flotilla" };
}

export function registerAggregateRoutes(app: FastifyInstance, deps: ProxyDeps): void {
  const inference = { auth: "inference" as const };

  app.get(
    "/api/tags",
    { schema: { summary: "Models on every online server", tags: ["ollama"], response: { 200: OllamaTagsResponse } }, config: inference },
    async function listTags(req) {
      const models = fleetModels(await refreshOnline(deps));
      return {
        models: [...models.values()].filter((m) => seesModel(deps, req, m.name)).map((m) => ({
          name: m.name,
          model: m.name,
          modified_at: m.modified_at,
          size: m.size,
          digest: m.digest,
          details: m.details,
          servers: m.servers,
        })),
      };
    },
  );

  app.get(
    "/api/ps",
    { schema: { summary: "Models loaded on every online server", tags: ["ollama"], response: { 200: OllamaPsResponse } }, config: inference },
    async function listLoaded(req) {
      const nodes = await refreshOnline(deps);
      return {
        models: nodes.flatMap((node) =>
          [...node.loaded.values()].filter((l) => seesModel(deps, req, l.name)).map((l) => ({ ...l, name: l.name, model: l.name, server: node.name })),
        ),
      };
    },
  );

  for (const prefix of ["/v1", "/api/v1"]) {
    const hide = prefix !== "/v1";
    app.get(
      `${prefix}/models`,
      { schema: { summary: "Models (OpenAI)", tags: ["openai"], hide, response: { 200: OpenAIModelList } }, config: inference },
      async function listModels(req) {
        const models = fleetModels(await refreshOnline(deps));
        return { object: "list", data: [...models.values()].filter((m) => seesModel(deps, req, m.name)).map(openAIModel) };
      },
    );
    app.get(
      `${prefix}/models/*`,
      {
        schema: {
          summary: "One model (OpenAI), with where it is in the fleet",
          tags: ["openai"],
          hide,
          response: {
            200: Type.Composite([
              OpenAIModel,
              Type.Object({ replicas: Type.Integer(), nodes: Type.Array(Type.String()), loaded_on: Type.Array(Type.String()), size: Type.Optional(Type.Number()) }),
            ], { additionalProperties: true }),
          },
        },
        config: inference,
      },
      async function getModel(req) {
        // The router has decoded the path once already: a `%` in it is a `%` in the name.
        const id = (req.params as { "*": string })["*"];
        if (!seesModel(deps, req, id)) throw modelRefused(id);
        const model = fleetModels(await refreshOnline(deps)).get(modelKey(id));
        if (!model) throw new FlotillaError("model_not_found", `model "${id}" is not on any online server`, { param: "model" });
        return { ...openAIModel(model), replicas: model.servers.length, nodes: model.servers, loaded_on: model.loadedOn, size: model.size };
      },
    );
  }
}

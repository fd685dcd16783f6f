import { Type } from "@sinclair/typebox";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { FlotillaError } from "../kernel/index.js";
import type { ModelCatalogs } from "./model-catalog.js";
import {
  BulkOperation,
  BulkToggleCatalogs,
  BulkToggleProviderModels,
  CatalogEntry,
  CatalogList,
  CatalogPatch,
  CatalogQuery,
  ProviderModel,
  ProviderModelList,
  ProviderModelPatch,
  ProviderModelQuery,
} from "./model-catalog-schemas.js";

const tags = ["models"];
const admin = { auth: "admin" as const };
/** As `/v1/models`: any caller that may run inference (and anyone, when the proxy is open). */
const inference = { auth: "inference" as const };
const ProviderModelParams = Type.Object({ provider_model_public_id: Type.String({ minLength: 1, maxLength: 200 }) });

/** Catalog ids are model names, which may hold slashes (`hf.co/org/model:q4`): the rest of the path, as Jan's `*model_public_id`. */
function catalogId(req: FastifyRequest): string {
  const id = (req.params as { "*": string })["*"].replace(/^\/+/, "");
  if (!id) throw new FlotillaError("invalid_request", "model catalog public ID is required", { param: "catalog_id" });
  return id;
}

const isAdmin = (req: FastifyRequest) => req.principal?.role === "admin";

/** Jan's model catalog API (seed 002): the catalog for every caller, and its admin API. */
export function registerModelCatalogRoutes(app: FastifyInstance, catalogs: ModelCatalogs): void {
  app.get(
    "/v1/models/catalogs",
    { schema: { summary: "Model catalog: the models of the fleet with their parameters, context length and capabilities", tags, querystring: CatalogQuery, response: { 200: CatalogList } }, config: inference },
    (req) => catalogs.listCatalogs(req.query as CatalogQuery, isAdmin(req)),
  );
  app.get(
    "/v1/models/catalogs/*",
    { schema: { summary: "One model's catalog entry", tags, response: { 200: CatalogEntry } }, config: inference },
    (req) => catalogs.getCatalog(catalogId(req), isAdmin(req)),
  );

  app.get(
    "/v1/admin/models/catalogs",
    { schema: { summary: "Model catalog, with entries turned off and models that left the fleet (admin)", tags, querystring: CatalogQuery, response: { 200: CatalogList } }, config: admin },
    (req) => catalogs.listCatalogs(req.query as CatalogQuery, true),
  );
  app.post(
    "/v1/admin/models/catalogs/bulk-toggle",
    { schema: { summary: "Turn catalog entries on or off: the ones named, or all, but for except_models (admin)", tags, body: BulkToggleCatalogs, response: { 200: BulkOperation } }, config: admin },
    (req) => catalogs.bulkToggleCatalogs(req.body as BulkToggleCatalogs),
  );
  app.get(
    "/v1/admin/models/catalogs/*",
    { schema: { summary: "One catalog entry (admin)", tags, response: { 200: CatalogEntry } }, config: admin },
    (req) => catalogs.getCatalog(catalogId(req), true),
  );
  app.patch(
    "/v1/admin/models/catalogs/*",
    { schema: { summary: "Change a catalog entry; it is `updated` from then on (admin)", tags, body: CatalogPatch, response: { 200: CatalogEntry } }, config: admin },
    (req) => catalogs.updateCatalog(catalogId(req), req.body as CatalogPatch),
  );

  app.get(
    "/v1/admin/models/provider-models",
    { schema: { summary: "Models on each server of the fleet (admin)", tags, querystring: ProviderModelQuery, response: { 200: ProviderModelList } }, config: admin },
    (req) => catalogs.listProviderModels(req.query as ProviderModelQuery),
  );
  app.post(
    "/v1/admin/models/provider-models/bulk-toggle",
    { schema: { summary: "Turn models on servers on or off: all, or one server's, but for except_models (admin)", tags, body: BulkToggleProviderModels, response: { 200: BulkOperation } }, config: admin },
    (req) => catalogs.bulkToggleProviderModels(req.body as BulkToggleProviderModels),
  );
  app.get(
    "/v1/admin/models/provider-models/:provider_model_public_id",
    { schema: { summary: "One model on one server (admin)", tags, params: ProviderModelParams, response: { 200: ProviderModel } }, config: admin },
    (req) => catalogs.getProviderModel((req.params as { provider_model_public_id: string }).provider_model_public_id),
  );
  app.patch(
    "/v1/admin/models/provider-models/:provider_model_public_id",
    { schema: { summary: "Change one model on one server; turned off, it is not routed there (admin)", tags, params: ProviderModelParams, body: ProviderModelPatch, response: { 200: ProviderModel } }, config: admin },
    (req) => catalogs.updateProviderModel((req.params as { provider_model_public_id: string }).provider_model_public_id, req.body as ProviderModelPatch),
  );
}

import { Type, type Static } from "@sinclair/typebox";

/**
 * Jan Server's model catalog shapes (services/llm-api: responses/model/model.go
 * ModelCatalogResponse, ProviderModelResponse, BulkOperationResponse; requests/models/model.go
 * UpdateModelCatalogRequest, UpdateProviderModelRequest, BulkToggleCatalogsRequest,
 * BulkEnableModelsRequest; domain/model SupportedParameters, Architecture, Pricing, TokenLimits).
 */

const Name = Type.String({ maxLength: 500 });
const Text = Type.String({ maxLength: 10_000 });
const Free = Type.Object({}, { additionalProperties: true, maxProperties: 100 });
/** Jan keeps defaults as decimals, written as strings ("0.7"); a number is read too. */
const Decimal = Type.Union([Type.String({ maxLength: 64 }), Type.Number({ minimum: -1e12, maximum: 1e12 }), Type.Null()]);
const Count = Type.Integer({ minimum: 0, maximum: 1e9 });
const Capability = Type.Boolean();

export const SupportedParameters = Type.Object({
  names: Type.Array(Type.String({ maxLength: 100 }), { maxItems: 200 }),
  default: Type.Record(Type.String({ maxLength: 100 }), Decimal, { maxProperties: 100 }),
});

export const Architecture = Type.Object({
  modality: Type.String({ maxLength: 200 }),
  input_modalities: Type.Array(Type.String({ maxLength: 100 }), { maxItems: 20 }),
  output_modalities: Type.Array(Type.String({ maxLength: 100 }), { maxItems: 20 }),
  tokenizer: Type.String({ maxLength: 200 }),
  instruct_type: Type.Union([Type.String({ maxLength: 200 }), Type.Null()]),
});

const Capabilities = {
  supports_images: Capability,
  supports_embeddings: Capability,
  supports_reasoning: Capability,
  supports_instruct: Capability,
  supports_audio: Capability,
  supports_video: Capability,
  supports_tools: Capability,
  supports_browser: Capability,
};

export const CatalogEntry = Type.Object({
  id: Type.String(),
  public_id: Type.String(),
  model_display_name: Type.Optional(Type.String()),
  description: Type.Optional(Type.String()),
  supported_parameters: SupportedParameters,
  architecture: Architecture,
  tags: Type.Optional(Type.Array(Type.String())),
  notes: Type.Optional(Type.String()),
  context_length: Type.Optional(Type.Integer()),
  is_moderated: Type.Optional(Type.Boolean()),
  active: Type.Optional(Type.Boolean()),
  extras: Type.Optional(Free),
  status: Type.Union([Type.Literal("init"), Type.Literal("filled"), Type.Literal("updated")]),
  family: Type.Optional(Type.String()),
  experimental: Type.Boolean(),
  requires_feature_flag: Type.Optional(Type.String()),
  ...Capabilities,
  last_synced_at: Type.Optional(Type.Integer()),
  created_at: Type.Integer(),
  updated_at: Type.Integer(),
  available: Type.Boolean({ description: "Flotilla: on at least one online server now" }),
});
export type CatalogEntry = Static<typeof CatalogEntry>;

const PriceLine = Type.Object({
  unit: Type.String({ maxLength: 100 }),
  amount_micro_usd: Count,
  currency: Type.String({ maxLength: 10 }),
});
export const Pricing = Type.Object({ lines: Type.Array(PriceLine, { maxItems: 20 }) });
export const TokenLimits = Type.Object({ context_length: Count, max_completion_tokens: Count });

export const ProviderModel = Type.Object({
  id: Type.String(),
  provider_id: Type.String(),
  provider_vendor: Type.String(),
  model_catalog_id: Type.Optional(Type.String()),
  model_public_id: Type.String(),
  provider_original_model_id: Type.String(),
  model_display_name: Type.String(),
  category: Type.String(),
  category_order_number: Type.Integer(),
  model_order_number: Type.Integer(),
  pricing: Pricing,
  token_limits: Type.Optional(TokenLimits),
  family: Type.Optional(Type.String()),
  supports_images: Capability,
  supports_embeddings: Capability,
  supports_reasoning: Capability,
  supports_instruct: Capability,
  supports_audio: Capability,
  supports_video: Capability,
  active: Type.Boolean(),
  created_at: Type.Integer(),
  updated_at: Type.Integer(),
  available: Type.Boolean({ description: "Flotilla: the model is on this server and the server is online" }),
});
export type ProviderModel = Static<typeof ProviderModel>;

export const CatalogPatch = Type.Object({
  supported_parameters: Type.Optional(SupportedParameters),
  architecture: Type.Optional(Architecture),
  tags: Type.Optional(Type.Array(Type.String({ maxLength: 100 }), { maxItems: 100 })),
  notes: Type.Optional(Text),
  description: Type.Optional(Text),
  is_moderated: Type.Optional(Type.Boolean()),
  extras: Type.Optional(Free),
  active: Type.Optional(Type.Boolean()),
  experimental: Type.Optional(Type.Boolean()),
  requires_feature_flag: Type.Optional(Type.String({ maxLength: 200 })),
  supports_images: Type.Optional(Capability),
  supports_embeddings: Type.Optional(Capability),
  supports_reasoning: Type.Optional(Capability),
  supports_instruct: Type.Optional(Capability),
  supports_audio: Type.Optional(Capability),
  supports_video: Type.Optional(Capability),
  supports_tools: Type.Optional(Capability),
  supports_browser: Type.Optional(Capability),
  family: Type.Optional(Type.String({ maxLength: 200 })),
  model_display_name: Type.Optional(Type.String({ maxLength: 500 })),
  context_length: Type.Optional(Type.Integer({ minimum: 0, maximum: 100_000_000 })),
});
export type CatalogPatch = Static<typeof CatalogPatch>;

export const ProviderModelPatch = Type.Object({
  model_display_name: Type.Optional(Type.String({ maxLength: 500 })),
  category: Type.Optional(Type.String({ maxLength: 200 })),
  category_order_number: Type.Optional(Type.Integer({ minimum: -1e6, maximum: 1e6 })),
  model_order_number: Type.Optional(Type.Integer({ minimum: -1e6, maximum: 1e6 })),
  pricing: Type.Optional(Pricing),
  token_limits: Type.Optional(TokenLimits),
  active: Type.Optional(Type.Boolean()),
});
export type ProviderModelPatch = Static<typeof ProviderModelPatch>;

/**
 * Jan requires `enable`; here a request without it turns models on, the one direction that
 * cannot take a model away from anyone (a default also makes the OpenAPI sample harmless).
 */
const Enable = Type.Boolean({ default: true, description: "true turns on, false turns off" });

/** Jan refuses more than 1000 exceptions (MaxExceptModelsLimit). */
const ExceptModels = Type.Optional(Type.Array(Name, { maxItems: 1000 }));

export const BulkToggleCatalogs = Type.Object({
  enable: Enable,
  catalog_ids: Type.Optional(Type.Array(Name, { maxItems: 1000 })),
  except_models: ExceptModels,
});
export type BulkToggleCatalogs = Static<typeof BulkToggleCatalogs>;

export const BulkToggleProviderModels = Type.Object({
  enable: Enable,
  except_models: ExceptModels,
  provider_id: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
});
export type BulkToggleProviderModels = Static<typeof BulkToggleProviderModels>;

/** Jan's omitempty: counts of 0 and an empty failure list are left out. */
export const BulkOperation = Type.Object({
  updated_count: Type.Integer(),
  skipped_count: Type.Optional(Type.Integer()),
  failed_count: Type.Optional(Type.Integer()),
  total_checked: Type.Optional(Type.Integer()),
  failed_models: Type.Optional(Type.Array(Type.String())),
});
export type BulkOperation = Static<typeof BulkOperation>;

/** Jan's list pagination (requests.GetPaginationFromQuery): limit (default 20, at most 100), offset, order. */
const Page = {
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20 })),
  offset: Type.Optional(Type.Integer({ minimum: 0, maximum: 1_000_000 })),
  order: Type.Optional(Type.Union([Type.Literal("asc"), Type.Literal("desc")])),
};

const Flag = Type.Optional(Type.Boolean());

export const CatalogQuery = Type.Object({
  ...Page,
  status: Type.Optional(Type.String({ maxLength: 20 })),
  is_moderated: Flag,
  active: Flag,
  supports_images: Flag,
  supports_embeddings: Flag,
  supports_reasoning: Flag,
  supports_audio: Flag,
  supports_video: Flag,
  supports_tools: Flag,
  family: Type.Optional(Type.String({ maxLength: 200 })),
});
export type CatalogQuery = Static<typeof CatalogQuery>;

export const ProviderModelQuery = Type.Object({
  ...Page,
  provider_id: Type.Optional(Type.String({ maxLength: 200 })),
  model_key: Type.Optional(Name),
  active: Flag,
  supports_images: Flag,
  search: Type.Optional(Type.String({ maxLength: 200 })),
});
export type ProviderModelQuery = Static<typeof ProviderModelQuery>;

export const CatalogList = Type.Object({ data: Type.Array(CatalogEntry), total: Type.Integer(), limit: Type.Integer() });
export const ProviderModelList = Type.Object({ data: Type.Array(ProviderModel), total: Type.Integer(), limit: Type.Integer() });

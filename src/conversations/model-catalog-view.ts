import { unixSeconds } from "../kernel/index.js";
import type { FleetModel } from "../fleet/index.js";
import type { ModelCatalogRow, ProviderModelRow } from "../store/index.js";
import type { CatalogEntry, CatalogPatch, ProviderModel, ProviderModelPatch } from "./model-catalog-schemas.js";
import type { ShowInfo } from "./model-catalog-show.js";

/** What an admin set on a catalog entry (its row's `edits`); `active` is a column of its own. */
export type CatalogEdits = Omit<CatalogPatch, "active">;
export type ProviderModelEdits = Omit<ProviderModelPatch, "active">;

/** One model across the fleet, from what the fleet reports and what an admin set. */
export interface CatalogSource {
  key: string;
  /** The fleet's spelling of the name (the first online server's), else the stored one. */
  name: string;
  /** Where it is now; absent when no online server has it. */
  model?: FleetModel;
  show?: ShowInfo;
  row?: ModelCatalogRow;
  edits: CatalogEdits;
}

/** One model on one node. */
export interface ProviderSource {
  id: string;
  node: string;
  /** The node's API, Jan's provider vendor. */
  vendor: string;
  key: string;
  /** The node's own spelling. */
  name: string;
  available: boolean;
  row?: ProviderModelRow;
  edits: ProviderModelEdits;
}

/** The OpenAI request parameters Flotilla passes to a model with these capabilities. */
function parameterNames(caps: ReadonlySet<string>): string[] {
  if (caps.has("embedding") && !caps.has("completion")) return ["input", "dimensions", "encoding_format"];
  const names = ["max_tokens", "temperature", "top_p", "stop", "seed", "frequency_penalty", "presence_penalty", "response_format", "stream"];
  if (caps.has("tools")) names.push("tools", "tool_choice");
  if (caps.has("thinking")) names.push("reasoning_effort");
  return names;
}

function architecture(caps: ReadonlySet<string>, show: ShowInfo | undefined): CatalogEntry["architecture"] {
  const input = ["text"];
  if (caps.has("vision")) input.push("image");
  if (caps.has("audio")) input.push("audio");
  const output = caps.has("embedding") && !caps.has("completion") ? ["embeddings"] : ["text"];
  return { modality: `${input.join("+")}->${output.join("+")}`, input_modalities: input, output_modalities: output, tokenizer: show?.tokenizer ?? "", instruct_type: null };
}

function createdMs(src: CatalogSource): number {
  const modified = src.model?.modified_at ? Date.parse(src.model.modified_at) : NaN;
  return src.row?.created_at ?? (Number.isFinite(modified) ? modified : 0);
}

/**
 * Jan's ModelCatalogResponse for one model across the fleet. Fields an admin set win;
 * the rest come from /api/show (context length, capabilities, Modelfile defaults, family)
 * and the fleet (`extras.fleet`: servers, where loaded, size, quantization).
 */
export function catalogView(src: CatalogSource): CatalogEntry {
  const { edits, show, model } = src;
  const caps = new Set(show?.capabilities ?? []);
  const status = src.row?.edited ? "updated" : show ? "filled" : "init";
  const details = model?.details ?? {};
  const fleet = model ? { servers: model.servers, loaded_on: model.loadedOn, size: model.size, digest: model.digest, parameter_size: details.parameter_size, quantization_level: details.quantization_level, format: details.format } : { servers: [] };
  return {
    id: src.name,
    public_id: src.name,
    model_display_name: edits.model_display_name ?? src.name,
    description: edits.description,
    supported_parameters: edits.supported_parameters ?? { names: parameterNames(caps), default: show?.defaults ?? {} },
    architecture: edits.architecture ?? architecture(caps, show),
    tags: edits.tags,
    notes: edits.notes,
    context_length: edits.context_length ?? show?.contextLength,
    is_moderated: edits.is_moderated,
    active: src.row ? src.row.active === 1 : true,
    extras: { ...edits.extras, fleet },
    status,
    family: edits.family ?? show?.family ?? (typeof details.family === "string" ? details.family : undefined),
    experimental: edits.experimental ?? false,
    requires_feature_flag: edits.requires_feature_flag,
    supports_images: edits.supports_images ?? caps.has("vision"),
    supports_embeddings: edits.supports_embeddings ?? caps.has("embedding"),
    supports_reasoning: edits.supports_reasoning ?? caps.has("thinking"),
    supports_instruct: edits.supports_instruct ?? false,
    supports_audio: edits.supports_audio ?? caps.has("audio"),
    supports_video: edits.supports_video ?? false,
    supports_tools: edits.supports_tools ?? caps.has("tools"),
    supports_browser: edits.supports_browser ?? false,
    last_synced_at: show ? unixSeconds(show.fetchedAt) : undefined,
    created_at: unixSeconds(createdMs(src)),
    updated_at: unixSeconds(src.row?.updated_at ?? createdMs(src)),
    available: model !== undefined,
  };
}

/** Jan's ProviderModelResponse for one model on one node; capabilities come from its catalog entry, as in Jan. */
export function providerModelView(src: ProviderSource, catalog: CatalogEntry): ProviderModel {
  const { edits } = src;
  const context = catalog.context_length;
  return {
    id: src.id,
    provider_id: src.node,
    provider_vendor: src.vendor,
    model_catalog_id: catalog.id,
    model_public_id: catalog.id,
    provider_original_model_id: src.name,
    model_display_name: edits.model_display_name ?? catalog.model_display_name ?? catalog.id,
    category: edits.category ?? "",
    category_order_number: edits.category_order_number ?? 0,
    model_order_number: edits.model_order_number ?? 0,
    pricing: edits.pricing ?? { lines: [] },
    token_limits: edits.token_limits ?? (context === undefined ? undefined : { context_length: context, max_completion_tokens: context }),
    family: catalog.family,
    supports_images: catalog.supports_images,
    supports_embeddings: catalog.supports_embeddings,
    supports_reasoning: catalog.supports_reasoning,
    supports_instruct: catalog.supports_instruct,
    supports_audio: catalog.supports_audio,
    supports_video: catalog.supports_video,
    active: src.row ? src.row.active === 1 : true,
    created_at: src.row ? unixSeconds(src.row.created_at) : catalog.created_at,
    updated_at: src.row ? unixSeconds(src.row.updated_at) : catalog.updated_at,
    available: src.available,
  };
}

import { createHash } from "node:crypto";
import { fleetModels, modelKey, onNode, type FleetService } from "../fleet/index.js";
import { FlotillaError } from "../kernel/index.js";
import type { CatalogWrite, ProviderModelWrite, Store } from "../store/index.js";
import type { BulkOperation, BulkToggleCatalogs, BulkToggleProviderModels, CatalogEntry, CatalogPatch, CatalogQuery, ProviderModel, ProviderModelPatch, ProviderModelQuery } from "./model-catalog-schemas.js";
import { ShowCache } from "./model-catalog-show.js";
import { catalogView, providerModelView, type CatalogEdits, type CatalogSource, type ProviderModelEdits, type ProviderSource } from "./model-catalog-view.js";

export interface ModelCatalogOptions {
  /** How often the disabled lists are read again, for changes made on another replica. */
  reloadMs: number;
  showTimeoutMs: number;
}

export interface CatalogLog {
  warn(msg: string): void;
}

export interface Page<T> {
  data: T[];
  total: number;
  limit: number;
}

const SHOW_CONCURRENCY = 2;
const SHOW_MAX_ENTRIES = 10_000;
const SHOW_RETRY_MS = 60_000;

/**
 * Jan's model catalogs over Flotilla's fleet. Jan's terms map onto the fleet so:
 * - a provider is a server or worker of the fleet (`provider_id`: its name; `provider_vendor`: its API, ollama or openai);
 * - a provider model is one model on one node (`id`: `pm_` and a hash of node and model;
 *   `provider_original_model_id`: the node's spelling); turned off, the router does not send it there;
 * - a catalog entry is one model name across the fleet (`id` and `public_id`: the name as the fleet spells it, found by
 *   any spelling Ollama would take); turned off, it is hidden from callers who are not admins and refused to them.
 * Context length, capabilities (vision, tools, thinking, embedding, audio), Modelfile defaults and family come from
 * Ollama's /api/show; what an admin sets is stored and wins. `extras.fleet` and `available` are Flotilla's: where the
 * model is now. A model that left the fleet keeps its stored changes and is listed only to admins, `available: false`.
 *
 * The request path reads only `fleet.switches`, in memory: loaded at start, again after every change made here,
 * and every `reloadMs` (a read of the few rows turned off) so that a change made on another replica applies here too.
 */
export class ModelCatalogs {
  private readonly shows: ShowCache;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly store: Store,
    private readonly fleet: FleetService,
    private readonly options: ModelCatalogOptions,
    private readonly log: CatalogLog,
  ) {
    this.shows = new ShowCache(fleet.fleet, { timeoutMs: options.showTimeoutMs, concurrency: SHOW_CONCURRENCY, maxEntries: SHOW_MAX_ENTRIES, retryMs: SHOW_RETRY_MS });
  }

  async start(): Promise<void> {
    await this.reload();
    this.timer = setInterval(() => void this.reload().catch((err: Error) => this.log.warn(`model catalog switches not read: ${err.message}`)), this.options.reloadMs);
    this.timer.unref();
  }

  close(): void {
    clearInterval(this.timer);
    this.shows.close();
  }

  /** Reads what is turned off into the fleet's switches, replacing them whole. */
  async reload(): Promise<void> {
    const disabled = await this.store.modelCatalogs.disabled();
    this.fleet.switches.hidden = new Set(disabled.catalogs);
    this.fleet.switches.off = new Set(disabled.providerModels.map((p) => onNode(p.node, p.model_key)));
  }

  /** Catalog entries: for admins every one, else those on the fleet and turned on. */
  async listCatalogs(query: CatalogQuery, admin: boolean): Promise<Page<CatalogEntry>> {
    const entries = [...(await this.catalogSources()).values()].map(catalogView).filter((e) => visible(e, admin) && matchesCatalog(e, query));
    return page(entries, query, (e) => e.id);
  }

  async getCatalog(id: string, admin: boolean): Promise<CatalogEntry> {
    const source = (await this.catalogSources()).get(modelKey(id));
    const entry = source && catalogView(source);
    if (!entry || !visible(entry, admin)) throw catalogNotFound(id);
    return entry;
  }

  /** Jan's PATCH: the fields given are set, and the entry is `updated` from then on. */
  async updateCatalog(id: string, patch: CatalogPatch): Promise<CatalogEntry> {
    const key = modelKey(id);
    const source = (await this.catalogSources()).get(key);
    if (!source) throw catalogNotFound(id);
    const { active, ...fields } = patch;
    const edits: CatalogEdits = { ...source.edits, ...fields };
    const row = await this.store.modelCatalogs.putCatalog({ model_key: key, name: source.name, edits: JSON.stringify(edits), edited: true, active }, Date.now());
    await this.reload();
    return catalogView({ ...source, row, edits });
  }

  /** Turns the given entries (all when none is given) on or off, but for those in `except_models`. */
  async bulkToggleCatalogs(body: BulkToggleCatalogs): Promise<BulkOperation> {
    const sources = await this.catalogSources();
    const ids = normalized(body.catalog_ids);
    const targets = ids.length ? ids.map((id) => sources.get(modelKey(id))) : [...sources.values()];
    if (targets.some((t) => t === undefined)) throw new FlotillaError("not_found", "some catalog(s) not found", { param: "catalog_ids" });
    const except = new Set(normalized(body.except_models).map(modelKey));
    const writes: CatalogWrite[] = [];
    for (const source of targets as CatalogSource[]) {
      const active = source.row ? source.row.active === 1 : true;
      if (!except.has(source.key) && active !== body.enable) writes.push({ model_key: source.key, name: source.name, active: body.enable });
    }
    await this.store.modelCatalogs.putCatalogs(writes, Date.now());
    await this.reload();
    return bulkResult(writes.length, targets.length);
  }

  async listProviderModels(query: ProviderModelQuery): Promise<Page<ProviderModel>> {
    const { providers, catalogs } = await this.providerSources();
    const search = query.search?.toLowerCase();
    const wanted = query.model_key === undefined ? undefined : modelKey(query.model_key);
    const views = providers
      .filter((p) => (query.provider_id === undefined || p.node === query.provider_id) && (wanted === undefined || p.key === wanted))
      .map((p) => providerModelView(p, catalogs(p)))
      .filter((v) => (query.active === undefined || v.active === query.active) && (query.supports_images === undefined || v.supports_images === query.supports_images))
      .filter((v) => search === undefined || v.model_public_id.toLowerCase().includes(search) || v.model_display_name.toLowerCase().includes(search));
    return page(views, query, (v) => `${v.provider_id}\u0000${v.model_public_id}`);
  }

  async getProviderModel(id: string): Promise<ProviderModel> {
    const { providers, catalogs } = await this.providerSources();
    const source = providers.find((p) => p.id === id);
    if (!source) throw new FlotillaError("not_found", "provider model not found", { param: "provider_model_public_id" });
    return providerModelView(source, catalogs(source));
  }

  async updateProviderModel(id: string, patch: ProviderModelPatch): Promise<ProviderModel> {
    const { providers, catalogs } = await this.providerSources();
    const source = providers.find((p) => p.id === id);
    if (!source) throw new FlotillaError("not_found", "provider model not found", { param: "provider_model_public_id" });
    const { active, ...fields } = patch;
    const edits: ProviderModelEdits = { ...source.edits, ...fields };
    const row = await this.store.modelCatalogs.putProviderModel({ ...providerWrite(source), edits: JSON.stringify(edits), active }, Date.now());
    await this.reload();
    return providerModelView({ ...source, row, edits }, catalogs(source));
  }

  /** Turns every model (of one node, with `provider_id`) on or off, but for those in `except_models`. */
  async bulkToggleProviderModels(body: BulkToggleProviderModels): Promise<BulkOperation> {
    const { providers } = await this.providerSources();
    const node = body.provider_id?.trim();
    if (node && !this.fleet.fleet.get(node) && !providers.some((p) => p.node === node)) throw new FlotillaError("not_found", "provider not found", { param: "provider_id" });
    const targets = node ? providers.filter((p) => p.node === node) : providers;
    const except = new Set(normalized(body.except_models).map(modelKey));
    const writes: ProviderModelWrite[] = [];
    for (const source of targets) {
      const active = source.row ? source.row.active === 1 : true;
      if (!except.has(source.key) && active !== body.enable) writes.push({ ...providerWrite(source), active: body.enable });
    }
    await this.store.modelCatalogs.putProviderModels(writes, Date.now());
    await this.reload();
    return bulkResult(writes.length, targets.length);
  }

  /** Every model on an online server, and every one an admin changed, by model key. */
  private async catalogSources(): Promise<Map<string, CatalogSource>> {
    this.shows.want();
    const rows = await this.store.modelCatalogs.listCatalogs();
    const sources = new Map<string, CatalogSource>();
    for (const [key, model] of fleetModels(this.fleet.fleet.all().filter((n) => n.up))) {
      const node = model.servers.find((server) => this.shows.info(server, key));
      sources.set(key, { key, name: model.name, model, show: node === undefined ? undefined : this.shows.info(node, key), edits: {} });
    }
    for (const row of rows) {
      const source = sources.get(row.model_key) ?? { key: row.model_key, name: row.name, edits: {} };
      sources.set(row.model_key, { ...source, row, edits: parseEdits<CatalogEdits>(row.edits) });
    }
    return sources;
  }

  /** Every model on every node (online or not), and every one an admin changed; with the catalog entry of each. */
  private async providerSources(): Promise<{ providers: ProviderSource[]; catalogs: (p: ProviderSource) => CatalogEntry }> {
    const [catalogSources, rows] = await Promise.all([this.catalogSources(), this.store.modelCatalogs.listProviderModels()]);
    const byId = new Map(rows.map((r) => [r.id, r]));
    const providers: ProviderSource[] = [];
    for (const node of this.fleet.fleet.all()) {
      for (const [key, entry] of node.models) {
        const id = providerModelId(node.name, key);
        const row = byId.get(id);
        byId.delete(id);
        providers.push({ id, node: node.name, vendor: node.kind ?? "unknown", key, name: entry.name, available: node.up, row, edits: parseEdits(row?.edits) });
      }
    }
    for (const row of byId.values()) {
      const vendor = this.fleet.fleet.get(row.node)?.kind ?? "unknown";
      providers.push({ id: row.id, node: row.node, vendor, key: row.model_key, name: row.name, available: false, row, edits: parseEdits(row.edits) });
    }
    const views = new Map<string, CatalogEntry>();
    const catalogs = (p: ProviderSource) => {
      let view = views.get(p.key);
      if (!view) views.set(p.key, (view = catalogView(catalogSources.get(p.key) ?? { key: p.key, name: p.name, edits: {} })));
      return view;
    };
    return { providers, catalogs };
  }
}

/** Stable, opaque and one path segment, whatever the node and model are called. */
export function providerModelId(node: string, key: string): string {
  return `pm_${createHash("sha256").update(onNode(node, key)).digest("base64url").slice(0, 22)}`;
}

function providerWrite(source: ProviderSource): ProviderModelWrite {
  return { id: source.id, node: source.node, model_key: source.key, name: source.name };
}

function catalogNotFound(id: string): FlotillaError {
  return new FlotillaError("not_found", `model catalog "${id}" not found`, { param: "catalog_id" });
}

function visible(entry: CatalogEntry, admin: boolean): boolean {
  return admin || (entry.available && entry.active !== false);
}

/** Jan's Normalize: trimmed, empty ones dropped, each once. */
function normalized(values: readonly string[] | undefined): string[] {
  return [...new Set((values ?? []).map((v) => v.trim()).filter((v) => v !== ""))];
}

function parseEdits<T>(text: string | undefined): T {
  return (text ? JSON.parse(text) : {}) as T;
}

/** Jan's BulkOperationResponse leaves out counts of 0 (omitempty). */
function bulkResult(updated: number, checked: number): BulkOperation {
  const result: BulkOperation = { updated_count: updated };
  if (checked - updated) result.skipped_count = checked - updated;
  if (checked) result.total_checked = checked;
  return result;
}

function matchesCatalog(e: CatalogEntry, q: CatalogQuery): boolean {
  const flags = ["is_moderated", "supports_images", "supports_embeddings", "supports_reasoning", "supports_audio", "supports_video", "supports_tools"] as const;
  if (flags.some((f) => q[f] !== undefined && Boolean(e[f]) !== q[f])) return false;
  if (q.active !== undefined && (e.active !== false) !== q.active) return false;
  if (q.status !== undefined && e.status !== q.status) return false;
  return q.family === undefined || e.family === q.family;
}

/** Jan's pagination: sorted by id (`order`, ascending by default), `offset` then `limit`. */
function page<T>(items: T[], q: { limit?: number; offset?: number; order?: "asc" | "desc" }, id: (item: T) => string): Page<T> {
  const limit = q.limit ?? 20;
  const offset = q.offset ?? 0;
  items.sort((a, b) => (id(a) < id(b) ? -1 : id(a) > id(b) ? 1 : 0));
  if (q.order === "desc") items.reverse();
  return { data: items.slice(offset, offset + limit), total: items.length, limit };
}

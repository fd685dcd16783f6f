import type { Kysely } from "kysely";
import type { Database, ModelCatalogRow, ProviderModelRow } from "./schema.js";

/** A change to a catalog entry: the fields given are written, the rest kept (a new row starts active, unedited). */
export interface CatalogWrite {
  model_key: string;
  name: string;
  edits?: string;
  edited?: boolean;
  active?: boolean;
}

/** A change to a provider model, as CatalogWrite. */
export interface ProviderModelWrite {
  id: string;
  node: string;
  model_key: string;
  name: string;
  edits?: string;
  active?: boolean;
}

/** What admins turned off: read by every replica every few seconds, so it only selects the few rows off. */
export interface DisabledModels {
  catalogs: string[];
  providerModels: Array<{ node: string; model_key: string }>;
}

/** Admins' changes to the model catalog (Jan's model catalogs and provider models). */
export interface ModelCatalogRepo {
  listCatalogs(): Promise<ModelCatalogRow[]>;
  getCatalog(modelKey: string): Promise<ModelCatalogRow | undefined>;
  putCatalog(write: CatalogWrite, now: number): Promise<ModelCatalogRow>;
  /** One write for many entries: every one or none. */
  putCatalogs(writes: CatalogWrite[], now: number): Promise<void>;
  listProviderModels(): Promise<ProviderModelRow[]>;
  getProviderModel(id: string): Promise<ProviderModelRow | undefined>;
  putProviderModel(write: ProviderModelWrite, now: number): Promise<ProviderModelRow>;
  putProviderModels(writes: ProviderModelWrite[], now: number): Promise<void>;
  disabled(): Promise<DisabledModels>;
}

const flag = (value: boolean | undefined) => (value === undefined ? undefined : value ? 1 : 0);

/** The columns a write sets on an existing row: only those it carries. */
function changed<T extends Record<string, unknown>>(values: T): Partial<T> {
  return Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined)) as Partial<T>;
}

async function putCatalog(db: Kysely<Database>, w: CatalogWrite, now: number): Promise<void> {
  const update = changed({ name: w.name, edits: w.edits, edited: flag(w.edited), active: flag(w.active), updated_at: now });
  await db
    .insertInto("model_catalogs")
    .values({ model_key: w.model_key, name: w.name, edits: w.edits ?? "{}", edited: flag(w.edited) ?? 0, active: flag(w.active) ?? 1, created_at: now, updated_at: now })
    .onConflict((oc) => oc.column("model_key").doUpdateSet(update))
    .execute();
}

async function putProviderModel(db: Kysely<Database>, w: ProviderModelWrite, now: number): Promise<void> {
  const update = changed({ name: w.name, edits: w.edits, active: flag(w.active), updated_at: now });
  await db
    .insertInto("provider_models")
    .values({ id: w.id, node: w.node, model_key: w.model_key, name: w.name, edits: w.edits ?? "{}", active: flag(w.active) ?? 1, created_at: now, updated_at: now })
    .onConflict((oc) => oc.column("id").doUpdateSet(update))
    .execute();
}

export function modelCatalogRepo(db: Kysely<Database>): ModelCatalogRepo {
  const getCatalog = (key: string) => db.selectFrom("model_catalogs").selectAll().where("model_key", "=", key).executeTakeFirst();
  const getProviderModel = (id: string) => db.selectFrom("provider_models").selectAll().where("id", "=", id).executeTakeFirst();
  return {
    listCatalogs: () => db.selectFrom("model_catalogs").selectAll().orderBy("model_key").execute(),
    getCatalog,
    async putCatalog(write, now) {
      await putCatalog(db, write, now);
      return (await getCatalog(write.model_key)) as ModelCatalogRow;
    },
    async putCatalogs(writes, now) {
      if (writes.length === 0) return;
      await db.transaction().execute(async (trx) => {
        for (const write of writes) await putCatalog(trx, write, now);
      });
    },
    listProviderModels: () => db.selectFrom("provider_models").selectAll().orderBy("node").orderBy("model_key").execute(),
    getProviderModel,
    async putProviderModel(write, now) {
      await putProviderModel(db, write, now);
      return (await getProviderModel(write.id)) as ProviderModelRow;
    },
    async putProviderModels(writes, now) {
      if (writes.length === 0) return;
      await db.transaction().execute(async (trx) => {
        for (const write of writes) await putProviderModel(trx, write, now);
      });
    },
    async disabled() {
      const [catalogs, providerModels] = await Promise.all([
        db.selectFrom("model_catalogs").select("model_key").where("active", "=", 0).execute(),
        db.selectFrom("provider_models").select(["node", "model_key"]).where("active", "=", 0).execute(),
      ]);
      return { catalogs: catalogs.map((r) => r.model_key), providerModels };
    },
  };
}

import type { Kysely } from "kysely";
import type { Database } from "./schema.js";

/** Fleet settings an admin changes at run time, as JSON values by name; every replica reads the same. */
export interface SettingRepo {
  get(name: string): Promise<unknown>;
  set(name: string, value: unknown): Promise<void>;
}

export function settingRepo(db: Kysely<Database>): SettingRepo {
  return {
    async get(name) {
      const row = await db.selectFrom("fleet_settings").select("value").where("name", "=", name).executeTakeFirst();
      return row === undefined ? undefined : (JSON.parse(row.value) as unknown);
    },
    async set(name, value) {
      const row = { name, value: JSON.stringify(value), updated_at: Date.now() };
      await db
        .insertInto("fleet_settings")
        .values(row)
        .onConflict((oc) => oc.column("name").doUpdateSet({ value: row.value, updated_at: row.updated_at }))
        .execute();
    },
  };
}

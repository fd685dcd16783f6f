import type { Kysely } from "kysely";
import type { Database, ServerRow } from "./schema.js";

/** A server as callers give it: `drained` as a boolean, times set by the store. */
export type ServerInput = Omit<ServerRow, "drained" | "created_at" | "updated_at"> & { drained: boolean };

export interface ServerRepo {
  /** Every server, by name. */
  list(): Promise<ServerRow[]>;
  get(name: string): Promise<ServerRow | undefined>;
  /** Inserts, or replaces every field of an existing server but created_at. */
  upsert(server: ServerInput): Promise<void>;
  /** false when there was no such server */
  remove(name: string): Promise<boolean>;
  /** false when there is no such server */
  setDrained(name: string, drained: boolean): Promise<boolean>;
  /** Stores `to` as the server's api_key if it is still `from`; false when it changed meanwhile (another replica got there first). */
  replaceApiKey(name: string, from: string, to: string): Promise<boolean>;
}

export function serverRepo(db: Kysely<Database>): ServerRepo {
  return {
    list: () => db.selectFrom("servers").selectAll().orderBy("name").execute(),
    get: (name) => db.selectFrom("servers").selectAll().where("name", "=", name).executeTakeFirst(),
    async upsert(server) {
      const now = Date.now();
      const row = { ...server, drained: server.drained ? 1 : 0, updated_at: now };
      await db
        .insertInto("servers")
        .values({ ...row, created_at: now })
        .onConflict((oc) => oc.column("name").doUpdateSet(row))
        .execute();
    },
    async remove(name) {
      const result = await db.deleteFrom("servers").where("name", "=", name).executeTakeFirst();
      return result.numDeletedRows > 0n;
    },
    async setDrained(name, drained) {
      const result = await db
        .updateTable("servers")
        .set({ drained: drained ? 1 : 0, updated_at: Date.now() })
        .where("name", "=", name)
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },
    async replaceApiKey(name, from, to) {
      const result = await db.updateTable("servers").set({ api_key: to }).where("name", "=", name).where("api_key", "=", from).executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },
  };
}

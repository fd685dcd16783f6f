import type { Kysely } from "kysely";
import type { ApiKeyRow, Database } from "./schema.js";

/** Ids per UPDATE, well under either backend's limit on bound parameters. */
const TOUCH_BATCH = 500;

export interface ApiKeyRepo {
  /** Rejects when the id or the hash is already stored. */
  insert(row: ApiKeyRow): Promise<void>;
  /** Every key, revoked and expired ones included, oldest first. */
  list(): Promise<ApiKeyRow[]>;
  findByHash(hash: string): Promise<ApiKeyRow | undefined>;
  get(id: string): Promise<ApiKeyRow | undefined>;
  /** A user's keys, revoked ones included, oldest first. */
  listForUser(userId: string): Promise<ApiKeyRow[]>;
  /** Sets last_used_at of these keys in a few statements (the gateway gathers ids and touches them now and then). */
  touch(ids: string[], at: number): Promise<void>;
  /** A user's keys follow the user's role. */
  setRoleForUser(userId: string, role: ApiKeyRow["role"]): Promise<void>;
  /** Marks the key revoked now; false when there is no such key or it was revoked already (the first time stays). */
  revoke(id: string): Promise<boolean>;
}

export function apiKeyRepo(db: Kysely<Database>): ApiKeyRepo {
  return {
    async insert(row) {
      await db.insertInto("api_keys").values(row).execute();
    },
    list: () => db.selectFrom("api_keys").selectAll().orderBy("created_at").orderBy("id").execute(),
    findByHash: (hash) => db.selectFrom("api_keys").selectAll().where("hash", "=", hash).executeTakeFirst(),
    get: (id) => db.selectFrom("api_keys").selectAll().where("id", "=", id).executeTakeFirst(),
    listForUser: (userId) => db.selectFrom("api_keys").selectAll().where("user_id", "=", userId).orderBy("created_at").orderBy("id").execute(),
    async touch(ids, at) {
      for (let i = 0; i < ids.length; i += TOUCH_BATCH) {
        await db.updateTable("api_keys").set({ last_used_at: at }).where("id", "in", ids.slice(i, i + TOUCH_BATCH)).execute();
      }
    },
    async setRoleForUser(userId, role) {
      await db.updateTable("api_keys").set({ role }).where("user_id", "=", userId).execute();
    },
    async revoke(id) {
      const result = await db
        .updateTable("api_keys")
        .set({ revoked_at: Date.now() })
        .where("id", "=", id)
        .where("revoked_at", "is", null)
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },
  };
}

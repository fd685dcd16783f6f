import type { Kysely } from "kysely";
import type { ApiKeyRow, Database, RequestRow, ServerRow, UsageRow } from "./schema.js";

const INSERT_BATCH = 500;

export type ServerInput = Omit<ServerRow, "created_at" | "updated_at" | "drained"> & { drained: boolean };

export function serverRepo(db: Kysely<Database>) {
  return {
    list: (): Promise<ServerRow[]> => db.selectFrom("servers").selectAll().orderBy("name").execute(),
    get: (name: string): Promise<ServerRow | undefined> => db.selectFrom("servers").selectAll().where("name", "=", name).executeTakeFirst(),
    /** Inserts or replaces every field but created_at. */
    async upsert(input: ServerInput): Promise<void> {
      const now = Date.now();
      const row = { ...input, drained: input.drained ? 1 : 0, updated_at: now };
      await db
        .insertInto("servers")
        .values({ ...row, created_at: now })
        .onConflict((oc) => oc.column("name").doUpdateSet(row))
        .execute();
    },
    async remove(name: string): Promise<boolean> {
      const result = await db.deleteFrom("servers").where("name", "=", name).executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },
    async setDrained(name: string, drained: boolean): Promise<void> {
      await db.updateTable("servers").set({ drained: drained ? 1 : 0, updated_at: Date.now() }).where("name", "=", name).execute();
    },
  };
}

export function apiKeyRepo(db: Kysely<Database>) {
  return {
    async insert(row: ApiKeyRow): Promise<void> {
      await db.insertInto("api_keys").values(row).execute();
    },
    list: (): Promise<ApiKeyRow[]> => db.selectFrom("api_keys").selectAll().orderBy("created_at").execute(),
    findByHash: (hash: string): Promise<ApiKeyRow | undefined> =>
      db.selectFrom("api_keys").selectAll().where("hash", "=", hash).executeTakeFirst(),
    async touch(ids: string[], at: number): Promise<void> {
      if (ids.length) await db.updateTable("api_keys").set({ last_used_at: at }).where("id", "in", ids).execute();
    },
    async revoke(id: string): Promise<void> {
      await db.updateTable("api_keys").set({ revoked_at: Date.now() }).where("id", "=", id).execute();
    },
  };
}

export interface RequestQuery {
  sinceMs: number;
  keyId?: string;
  model?: string;
  limit?: number;
}

export function auditRepo(db: Kysely<Database>) {
  return {
    /** Request rows and usage increments land together or not at all. */
    async write(requests: RequestRow[], usage: UsageRow[]): Promise<void> {
      await db.transaction().execute(async (tx) => {
        for (let i = 0; i < requests.length; i += INSERT_BATCH) {
          await tx.insertInto("requests").values(requests.slice(i, i + INSERT_BATCH)).onConflict((oc) => oc.column("id").doNothing()).execute();
        }
        for (let i = 0; i < usage.length; i += INSERT_BATCH) {
          await tx
            .insertInto("usage_daily")
            .values(usage.slice(i, i + INSERT_BATCH))
            .onConflict((oc) =>
              oc.columns(["day", "model", "key_id"]).doUpdateSet((eb) => ({
                requests: eb("usage_daily.requests", "+", eb.ref("excluded.requests")),
                tokens_in: eb("usage_daily.tokens_in", "+", eb.ref("excluded.tokens_in")),
                tokens_out: eb("usage_daily.tokens_out", "+", eb.ref("excluded.tokens_out")),
                errors: eb("usage_daily.errors", "+", eb.ref("excluded.errors")),
              })),
            )
            .execute();
        }
      });
    },
    listRequests(query: RequestQuery): Promise<RequestRow[]> {
      let q = db.selectFrom("requests").selectAll().where("time", ">=", query.sinceMs);
      if (query.keyId !== undefined) q = q.where("key_id", "=", query.keyId);
      if (query.model !== undefined) q = q.where("model", "=", query.model);
      return q.orderBy("time", "desc").orderBy("id", "desc").limit(query.limit ?? 1000).execute();
    },
    usage(query: { sinceDay: string; keyId?: string; model?: string }): Promise<UsageRow[]> {
      let q = db.selectFrom("usage_daily").selectAll().where("day", ">=", query.sinceDay);
      if (query.keyId !== undefined) q = q.where("key_id", "=", query.keyId);
      if (query.model !== undefined) q = q.where("model", "=", query.model);
      return q.orderBy("day").orderBy("model").orderBy("key_id").execute() as Promise<UsageRow[]>;
    },
  };
}

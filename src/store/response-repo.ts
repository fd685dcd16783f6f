import type { Kysely } from "kysely";
import type { Database, ResponseRow } from "./schema.js";

export interface ResponseRepo {
  /** Writes a response, or replaces it as it moves on (in progress, then done). */
  put(row: ResponseRow): Promise<void>;
  get(id: string): Promise<ResponseRow | undefined>;
  remove(id: string): Promise<boolean>;
}

export function responseRepo(db: Kysely<Database>): ResponseRepo {
  return {
    async put(row) {
      await db
        .insertInto("responses")
        .values(row)
        .onConflict((oc) => oc.column("id").doUpdateSet({ status: row.status, response: row.response, history: row.history, updated_at: row.updated_at }))
        .execute();
    },
    async get(id) {
      return db.selectFrom("responses").selectAll().where("id", "=", id).executeTakeFirst();
    },
    async remove(id) {
      const result = await db.deleteFrom("responses").where("id", "=", id).executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },
  };
}

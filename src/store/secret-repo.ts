import type { Kysely } from "kysely";
import type { Database } from "./schema.js";

export interface SecretRepo {
  /** The stored secret `name`; when there is none, `value` is stored first. Replicas racing here all get the one that won. */
  getOrCreate(name: string, value: string): Promise<string>;
}

export function secretRepo(db: Kysely<Database>): SecretRepo {
  return {
    async getOrCreate(name, value) {
      await db
        .insertInto("secrets")
        .values({ name, value, created_at: Date.now() })
        .onConflict((oc) => oc.column("name").doNothing())
        .execute();
      const row = await db.selectFrom("secrets").select("value").where("name", "=", name).executeTakeFirstOrThrow();
      return row.value;
    },
  };
}

import type { Kysely } from "kysely";
import type { Database, TransferRow } from "./schema.js";

export type TransferProgress = Pick<TransferRow, "status" | "stage" | "completed_bytes" | "total_bytes" | "error" | "updated_at">;

export interface TransferRepo {
  insert(row: TransferRow): Promise<void>;
  /** Records progress; answers whether a stop was asked for meanwhile (by any replica). */
  update(id: string, progress: TransferProgress): Promise<{ cancelRequested: boolean }>;
  /** Asks the replica running it to stop; false when it is not running. */
  requestCancel(id: string): Promise<boolean>;
  get(id: string): Promise<TransferRow | undefined>;
  /** Newest first. */
  list(limit: number): Promise<TransferRow[]>;
}

export function transferRepo(db: Kysely<Database>): TransferRepo {
  return {
    async insert(row) {
      await db.insertInto("transfers").values(row).execute();
    },
    async update(id, progress) {
      const row = await db.updateTable("transfers").set(progress).where("id", "=", id).returning("cancel_requested").executeTakeFirst();
      return { cancelRequested: row?.cancel_requested === 1 };
    },
    async requestCancel(id) {
      const result = await db.updateTable("transfers").set({ cancel_requested: 1 }).where("id", "=", id).where("status", "=", "running").executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },
    get: (id) => db.selectFrom("transfers").selectAll().where("id", "=", id).executeTakeFirst(),
    list: (limit) => db.selectFrom("transfers").selectAll().orderBy("created_at", "desc").orderBy("id", "desc").limit(limit).execute(),
  };
}

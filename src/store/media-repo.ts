import type { Kysely } from "kysely";
import type { Database, MediaRow } from "./schema.js";

/** What a pending upload becomes once its bytes have been checked. */
export interface MediaReady {
  mime: string;
  bytes: number;
  sha256: string;
}

export interface MediaRepo {
  insert(row: MediaRow): Promise<void>;
  get(id: string): Promise<MediaRow | undefined>;
  /** The owner's ready media with these bytes (by SHA-256), if any. */
  findByHash(owner: string, sha256: string): Promise<MediaRow | undefined>;
  /** Marks a pending upload ready; false when it is not pending (already ready, or removed). */
  markReady(id: string, ready: MediaReady): Promise<boolean>;
  remove(id: string): Promise<boolean>;
}

export function mediaRepo(db: Kysely<Database>): MediaRepo {
  return {
    async insert(row) {
      await db.insertInto("media").values(row).execute();
    },
    get(id) {
      return db.selectFrom("media").selectAll().where("id", "=", id).executeTakeFirst();
    },
    findByHash(owner, sha256) {
      return db.selectFrom("media").selectAll().where("owner", "=", owner).where("sha256", "=", sha256).where("status", "=", "ready").orderBy("created_at").limit(1).executeTakeFirst();
    },
    async markReady(id, ready) {
      const result = await db
        .updateTable("media")
        .set({ ...ready, status: "ready", upload_expires_at: null })
        .where("id", "=", id)
        .where("status", "=", "pending")
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },
    async remove(id) {
      const result = await db.deleteFrom("media").where("id", "=", id).executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },
  };
}

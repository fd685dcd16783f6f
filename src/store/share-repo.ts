import type { Kysely } from "kysely";
import type { ConversationShareRow, Database } from "./schema.js";

export interface ShareRepo {
  insert(row: ConversationShareRow): Promise<void>;
  /** A share of the owner's conversation, revoked or not. */
  get(owner: string, conversationId: string, id: string): Promise<ConversationShareRow | undefined>;
  /** A conversation's shares, newest first. */
  list(owner: string, conversationId: string): Promise<ConversationShareRow[]>;
  /** Marks a share revoked; false when it is not the owner's or was revoked already. */
  revoke(owner: string, conversationId: string, id: string, now: number): Promise<boolean>;
  /** A share that is not revoked, by its slug, counted as viewed. */
  view(slug: string, now: number): Promise<ConversationShareRow | undefined>;
}

export function shareRepo(db: Kysely<Database>): ShareRepo {
  return {
    async insert(row) {
      await db.insertInto("conversation_shares").values(row).execute();
    },
    get(owner, conversationId, id) {
      return db.selectFrom("conversation_shares").selectAll().where("id", "=", id).where("owner", "=", owner).where("conversation_id", "=", conversationId).executeTakeFirst();
    },
    list(owner, conversationId) {
      return db.selectFrom("conversation_shares").selectAll().where("owner", "=", owner).where("conversation_id", "=", conversationId).orderBy("created_at", "desc").orderBy("id", "desc").execute();
    },
    async revoke(owner, conversationId, id, now) {
      const result = await db
        .updateTable("conversation_shares")
        .set({ revoked_at: now, updated_at: now })
        .where("id", "=", id)
        .where("owner", "=", owner)
        .where("conversation_id", "=", conversationId)
        .where("revoked_at", "is", null)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },
    view(slug, now) {
      return db
        .updateTable("conversation_shares")
        .set((eb) => ({ view_count: eb("view_count", "+", 1), last_viewed_at: now }))
        .where("slug", "=", slug)
        .where("revoked_at", "is", null)
        .returningAll()
        .executeTakeFirst();
    },
  };
}

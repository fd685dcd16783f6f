import type { Kysely } from "kysely";
import type { Database, NotificationSubscriptionRow } from "./schema.js";

export interface NotificationRepo {
  /** The owner's subscriptions, in the order they were given. */
  subscriptionsOf(owner: string): Promise<NotificationSubscriptionRow[]>;
  /** Replaces every subscription of the owner with `rows`, at once. */
  replaceSubscriptions(owner: string, rows: NotificationSubscriptionRow[]): Promise<void>;
  /** Every subscription about `server` by name or by `*`. */
  subscriptionsAbout(server: string): Promise<NotificationSubscriptionRow[]>;
  /**
   * Takes the right to send `event` about `server` at `now` for `owner`: true for the
   * one caller (of any replica on this database) whose write lands, none having landed
   * after `now - cooldownMs`.
   */
  claimSend(server: string, event: string, now: number, cooldownMs: number, owner: string): Promise<boolean>;
}

export function notificationRepo(db: Kysely<Database>): NotificationRepo {
  return {
    async subscriptionsOf(owner) {
      return db.selectFrom("notification_subscriptions").selectAll().where("owner", "=", owner).orderBy("created_at").orderBy("id").execute();
    },
    async replaceSubscriptions(owner, rows) {
      await db.transaction().execute(async (tx) => {
        await tx.deleteFrom("notification_subscriptions").where("owner", "=", owner).execute();
        if (rows.length > 0) await tx.insertInto("notification_subscriptions").values(rows).execute();
      });
    },
    async subscriptionsAbout(server) {
      return db.selectFrom("notification_subscriptions").selectAll().where("server", "in", [server, "*"]).orderBy("created_at").orderBy("id").execute();
    },
    async claimSend(server, event, now, cooldownMs, owner) {
      const result = await db
        .insertInto("notification_sends")
        .values({ server, event, sent_at: now, owner })
        .onConflict((oc) => oc.columns(["server", "event"]).doUpdateSet({ sent_at: now, owner }).where("notification_sends.sent_at", "<=", now - cooldownMs))
        .executeTakeFirst();
      return Number(result.numInsertedOrUpdatedRows ?? 0) === 1;
    },
  };
}

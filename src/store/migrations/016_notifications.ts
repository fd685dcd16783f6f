import type { Kysely } from "kysely";

/**
 * Seed 004's notifications. `notification_subscriptions`: which server events
 * (JSON array) each owner wants, about which server (`*`: any), on which
 * channel (and, for a webhook, the URL). `notification_sends`: per (server,
 * event) when a notice last went out; replicas that see the same change race
 * to update it, and only the one whose write lands past the cooldown sends.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("notification_subscriptions")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("owner", "text", (c) => c.notNull())
    .addColumn("server", "text", (c) => c.notNull())
    .addColumn("events", "text", (c) => c.notNull())
    .addColumn("channel", "text", (c) => c.notNull())
    .addColumn("url", "text")
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("notification_subscriptions_owner").on("notification_subscriptions").column("owner").execute();
  await db.schema.createIndex("notification_subscriptions_server").on("notification_subscriptions").column("server").execute();
  await db.schema
    .createTable("notification_sends")
    .addColumn("server", "text", (c) => c.notNull())
    .addColumn("event", "text", (c) => c.notNull())
    .addColumn("sent_at", "bigint", (c) => c.notNull())
    .addColumn("owner", "text", (c) => c.notNull())
    .addPrimaryKeyConstraint("notification_sends_pk", ["server", "event"])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable("notification_sends").execute();
  await db.schema.dropTable("notification_subscriptions").execute();
}

import type { Kysely } from "kysely";

/**
 * Seed 002's token flow and OIDC login: a session is either a dashboard
 * cookie or a refresh-token family; spent refresh tokens are kept until the
 * session ends, so a replayed one is recognised; users gain an email, their
 * settings, and links to OIDC identities; keys gain a daily token budget;
 * replicas share generated secrets (the access-token signing key).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable("sessions").addColumn("kind", "text", (c) => c.notNull().defaultTo("cookie")).execute();

  await db.schema
    .createTable("spent_refresh_tokens")
    .addColumn("token_hash", "text", (c) => c.primaryKey())
    .addColumn("session_id", "text", (c) => c.notNull().references("sessions.id").onDelete("cascade"))
    .addColumn("spent_at", "bigint", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("spent_refresh_tokens_session").on("spent_refresh_tokens").column("session_id").execute();

  await db.schema.alterTable("users").addColumn("email", "text").execute();
  await db.schema.alterTable("users").addColumn("settings", "text", (c) => c.notNull().defaultTo("{}")).execute();

  await db.schema
    .createTable("user_identities")
    .addColumn("issuer", "text", (c) => c.notNull())
    .addColumn("subject", "text", (c) => c.notNull())
    .addColumn("user_id", "text", (c) => c.notNull().references("users.id").onDelete("cascade"))
    .addColumn("email", "text")
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addPrimaryKeyConstraint("user_identities_pk", ["issuer", "subject"])
    .execute();
  await db.schema.createIndex("user_identities_user").on("user_identities").column("user_id").execute();

  await db.schema.alterTable("api_keys").addColumn("daily_token_budget", "bigint").execute();

  await db.schema
    .createTable("secrets")
    .addColumn("name", "text", (c) => c.primaryKey())
    .addColumn("value", "text", (c) => c.notNull())
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable("secrets").execute();
  await db.schema.alterTable("api_keys").dropColumn("daily_token_budget").execute();
  await db.schema.dropTable("user_identities").execute();
  await db.schema.alterTable("users").dropColumn("settings").execute();
  await db.schema.alterTable("users").dropColumn("email").execute();
  await db.schema.dropTable("spent_refresh_tokens").execute();
  await db.schema.alterTable("sessions").dropColumn("kind").execute();
}

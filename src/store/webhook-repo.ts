import { sql, type Kysely } from "kysely";
import type { Database, WebhookDeliveryRow, WebhookRow } from "./schema.js";

export type WebhookChange = Partial<Pick<WebhookRow, "url" | "events" | "description" | "enabled">>;

export interface WebhookRepo {
  insert(row: WebhookRow): Promise<void>;
  get(id: string): Promise<WebhookRow | undefined>;
  listForOwner(owner: string): Promise<WebhookRow[]>;
  change(id: string, change: WebhookChange): Promise<void>;
  remove(id: string): Promise<boolean>;
  insertDelivery(row: WebhookDeliveryRow): Promise<void>;
  getDelivery(id: string): Promise<WebhookDeliveryRow | undefined>;
  /** A webhook's deliveries, newest first. */
  deliveries(webhookId: string, limit: number): Promise<WebhookDeliveryRow[]>;
  /** Pending deliveries due by `now`, oldest first. */
  due(now: number, limit: number): Promise<WebhookDeliveryRow[]>;
  /**
   * Takes a due delivery for one attempt: moves its due time to `until` only if
   * it is still what `seen` said, so of several replicas one attempt wins.
   */
  claim(id: string, seen: number | null, until: number): Promise<boolean>;
  /** The webhooks whose stored secret does not start with `prefix`. */
  secretsWithout(prefix: string): Promise<Array<Pick<WebhookRow, "id" | "secret">>>;
  /** Stores `to` as the webhook's secret if it is still `from`; false when it changed meanwhile (another replica got there first). */
  replaceSecret(id: string, from: string, to: string): Promise<boolean>;
  recordAttempt(id: string, outcome: Pick<WebhookDeliveryRow, "status" | "attempts" | "last_status" | "last_error" | "next_attempt_at">): Promise<void>;
}

export function webhookRepo(db: Kysely<Database>): WebhookRepo {
  return {
    async insert(row) {
      await db.insertInto("webhooks").values(row).execute();
    },
    async get(id) {
      return db.selectFrom("webhooks").selectAll().where("id", "=", id).executeTakeFirst();
    },
    async listForOwner(owner) {
      return db.selectFrom("webhooks").selectAll().where("owner", "=", owner).orderBy("created_at").orderBy("id").execute();
    },
    async change(id, change) {
      await db.updateTable("webhooks").set({ ...change, updated_at: Date.now() }).where("id", "=", id).execute();
    },
    async remove(id) {
      await db.deleteFrom("webhook_deliveries").where("webhook_id", "=", id).execute();
      const result = await db.deleteFrom("webhooks").where("id", "=", id).executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },
    async insertDelivery(row) {
      await db.insertInto("webhook_deliveries").values(row).execute();
    },
    async getDelivery(id) {
      return db.selectFrom("webhook_deliveries").selectAll().where("id", "=", id).executeTakeFirst();
    },
    async deliveries(webhookId, limit) {
      return db.selectFrom("webhook_deliveries").selectAll().where("webhook_id", "=", webhookId).orderBy("created_at", "desc").orderBy("id", "desc").limit(limit).execute();
    },
    async due(now, limit) {
      return db.selectFrom("webhook_deliveries").selectAll().where("status", "=", "pending").where("next_attempt_at", "<=", now).orderBy("next_attempt_at").limit(limit).execute();
    },
    async claim(id, seen, until) {
      const result = await db
        .updateTable("webhook_deliveries")
        .set({ next_attempt_at: until })
        .where("id", "=", id)
        .where("status", "=", "pending")
        .where((eb) => (seen === null ? eb("next_attempt_at", "is", null) : eb("next_attempt_at", "=", seen)))
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },
    async secretsWithout(prefix) {
      // substr, not LIKE: SQLite's LIKE ignores case, and a prefix may hold LIKE's wildcards.
      return db.selectFrom("webhooks").select(["id", "secret"]).where(sql<string>`substr(secret, 1, ${prefix.length})`, "<>", prefix).orderBy("id").execute();
    },
    async replaceSecret(id, from, to) {
      const result = await db.updateTable("webhooks").set({ secret: to }).where("id", "=", id).where("secret", "=", from).executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },
    async recordAttempt(id, outcome) {
      await db.updateTable("webhook_deliveries").set({ ...outcome, updated_at: Date.now() }).where("id", "=", id).execute();
    },
  };
}

import { sql, type Kysely } from "kysely";

/**
 * Claims read ready tasks in run_at order; with the state in the index's key a
 * claim had to sort every ready task of the queue (a long backlog made each
 * claim slower). This index holds only ready tasks, already in claim order.
 * The predicate is the same literal text the claim query uses, which is what
 * lets SQLite and PostgreSQL prove the index applies.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createIndex("tasks_claim_order")
    .on("tasks")
    .columns(["queue", "run_at", "created_at", "id"])
    .where(sql<boolean>`state in ('pending', 'scheduled', 'retry')`)
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex("tasks_claim_order").execute();
}

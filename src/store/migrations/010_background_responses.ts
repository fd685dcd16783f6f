import type { Kysely } from "kysely";

/**
 * Background responses (OpenAI's `background: true`): a stored response keeps
 * the request it was made with (its input items listed by `input_items`, and
 * what a background run reads), whether it runs in the background and the
 * queue task that runs it, and — made with `stream: true` too — its stream's
 * events, numbered from 0, to replay (`GET /v1/responses/{id}?stream=true`).
 * `event_count` is the next event's number: it moves with the response's
 * status in one write, so an event is never kept after the one that ends it.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  // One column per statement: SQLite adds one at a time.
  await db.schema.alterTable("responses").addColumn("request", "text").execute();
  await db.schema.alterTable("responses").addColumn("background", "integer", (c) => c.notNull().defaultTo(0)).execute();
  await db.schema.alterTable("responses").addColumn("task_id", "text").execute();
  await db.schema.alterTable("responses").addColumn("event_count", "integer", (c) => c.notNull().defaultTo(0)).execute();
  await db.schema
    .createTable("response_events")
    .addColumn("response_id", "text", (c) => c.notNull())
    .addColumn("sequence", "integer", (c) => c.notNull())
    .addColumn("event", "text", (c) => c.notNull())
    .addPrimaryKeyConstraint("response_events_pk", ["response_id", "sequence"])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable("response_events").execute();
  for (const column of ["event_count", "task_id", "background", "request"]) await db.schema.alterTable("responses").dropColumn(column).execute();
}

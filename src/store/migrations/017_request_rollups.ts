import type { Kysely } from "kysely";
import { backfillRollups, NODE_COLUMNS } from "../audit-rollups.js";
import type { Database } from "../schema.js";

/**
 * Hourly (and daily) rollups of the audit log, so /api/usage and /api/analytics
 * read sums rather than every row of their window. `request_rollups`: per hour or
 * UTC day, per dimension (model, key, user, source, route, retry reasons) and
 * value, the counts and sums those views show. `request_node_rollups`: per hour
 * or day, server and model, the counts and a fixed histogram (see
 * audit-histogram.ts) of latency, time to first byte and queue wait, for the
 * percentiles. `request_minutes`: per minute, the chart's sums;
 * `request_model_minutes`: per minute and model, requests and tokens. Null values are
 * stored as '' with a flag: a primary key column cannot be null in PostgreSQL.
 * The rows already stored are added up here, so an upgraded database answers as before.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const store = db as unknown as Kysely<Database>;
  if (store.isTransaction) await create(store);
  else await store.transaction().execute(create);
}

async function create(db: Kysely<Database>): Promise<void> {
  const count = (name: string) => (t: ReturnType<Kysely<unknown>["schema"]["createTable"]>) => t.addColumn(name, "bigint", (c) => c.notNull().defaultTo(0));
  let rollups = db.schema
    .createTable("request_rollups")
    .addColumn("dimension", "text", (c) => c.notNull())
    .addColumn("span_ms", "bigint", (c) => c.notNull())
    .addColumn("start_ms", "bigint", (c) => c.notNull())
    .addColumn("is_null", "integer", (c) => c.notNull())
    .addColumn("name", "text", (c) => c.notNull());
  for (const c of ["requests", "errors", "tokens_in", "tokens_out", "busy_us", "cold_loads", "cold_ttft_us", "cold_ttft_count"]) rollups = count(c)(rollups);
  await rollups
    .addColumn("first_time", "bigint", (c) => c.notNull())
    .addColumn("last_time", "bigint", (c) => c.notNull())
    .addPrimaryKeyConstraint("request_rollups_pk", ["dimension", "span_ms", "start_ms", "is_null", "name"])
    .execute();
  let nodes = db.schema
    .createTable("request_node_rollups")
    .addColumn("span_ms", "bigint", (c) => c.notNull())
    .addColumn("start_ms", "bigint", (c) => c.notNull())
    .addColumn("server", "text", (c) => c.notNull())
    .addColumn("model", "text", (c) => c.notNull())
    .addColumn("model_null", "integer", (c) => c.notNull());
  for (const c of NODE_COLUMNS.slice(5)) nodes = count(c)(nodes);
  await nodes.addPrimaryKeyConstraint("request_node_rollups_pk", ["span_ms", "start_ms", "server", "model_null", "model"]).execute();
  let minutes = db.schema.createTable("request_minutes").addColumn("minute", "bigint", (c) => c.primaryKey());
  for (const c of ["requests", "errors", "loaded_hits", "cold_loads", "retries", "retried", "latency_us", "ttft_us", "ttft_count", "queue_us", "queue_count"]) minutes = count(c)(minutes);
  await minutes.execute();
  let modelMinutes = db.schema.createTable("request_model_minutes").addColumn("minute", "bigint", (c) => c.notNull()).addColumn("model", "text", (c) => c.notNull());
  for (const c of ["requests", "tokens_in", "tokens_out"]) modelMinutes = count(c)(modelMinutes);
  await modelMinutes.addPrimaryKeyConstraint("request_model_minutes_pk", ["minute", "model"]).execute();
  await backfillRollups(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ["request_model_minutes", "request_minutes", "request_node_rollups", "request_rollups"]) await db.schema.dropTable(table).execute();
}

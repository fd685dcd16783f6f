import type { Kysely } from "kysely";
import type { Database, EventKind, EventRow, SystemSampleRow } from "./schema.js";

export interface EventQuery {
  sinceMs: number;
  kinds?: readonly EventKind[];
  node?: string;
  limit: number;
}

export interface EventRepo {
  insert(rows: EventRow[]): Promise<void>;
  /** Newest first. */
  list(query: EventQuery): Promise<EventRow[]>;
  insertSamples(rows: SystemSampleRow[]): Promise<void>;
  /** Oldest first. */
  samples(node: string, sinceMs: number): Promise<SystemSampleRow[]>;
  /** Deletes events and samples older than `beforeMs`; returns how many rows went. */
  prune(beforeMs: number): Promise<number>;
}

export function eventRepo(db: Kysely<Database>): EventRepo {
  return {
    async insert(rows) {
      if (rows.length > 0) await db.insertInto("events").values(rows).execute();
    },
    list(query) {
      let q = db.selectFrom("events").selectAll().where("time", ">=", query.sinceMs);
      if (query.kinds) q = q.where("kind", "in", [...query.kinds]);
      if (query.node !== undefined) q = q.where("node", "=", query.node);
      return q.orderBy("time", "desc").orderBy("id", "desc").limit(query.limit).execute();
    },
    async insertSamples(rows) {
      if (rows.length > 0) await db.insertInto("system_samples").values(rows).onConflict((oc) => oc.columns(["node", "time"]).doNothing()).execute();
    },
    samples: (node, sinceMs) => db.selectFrom("system_samples").selectAll().where("node", "=", node).where("time", ">=", sinceMs).orderBy("time").execute(),
    async prune(beforeMs) {
      const events = await db.deleteFrom("events").where("time", "<", beforeMs).executeTakeFirst();
      const samples = await db.deleteFrom("system_samples").where("time", "<", beforeMs).executeTakeFirst();
      return Number(events.numDeletedRows) + Number(samples.numDeletedRows);
    },
  };
}

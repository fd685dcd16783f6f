import type { Kysely } from "kysely";
import type { Database, ResponseRow } from "./schema.js";

/** What a response becomes: its status and object, and the chat history it ends when that is known. */
export interface ResponseChange {
  status: string;
  response: string;
  history?: string;
}

export interface ResponseRepo {
  /** Writes a response, or replaces it as it moves on (in progress, then done). */
  put(row: ResponseRow): Promise<void>;
  /** A new response with the first events of its stream (event_count is their number), in one transaction. */
  insert(row: ResponseRow, events: readonly string[]): Promise<void>;
  get(id: string): Promise<ResponseRow | undefined>;
  /**
   * Moves a response on while its status is one of `from`: to `change` when given, with `events` kept after
   * those of its stream so far, in one transaction. False, and nothing written, once it is not (cancelled,
   * ended or deleted meanwhile): the first to move it decides, and no event is kept after the one that ends it.
   */
  advance(id: string, from: readonly string[], change: ResponseChange | undefined, events: readonly string[], now: number): Promise<boolean>;
  /** The queue task that runs a background response. */
  setTask(id: string, taskId: string): Promise<void>;
  /** The kept events of a response's stream numbered above `after`, in order, up to `limit`. */
  events(id: string, after: number, limit: number): Promise<Array<{ sequence: number; event: string }>>;
  /** Removes a response and the events of its stream. */
  remove(id: string): Promise<boolean>;
}

export function responseRepo(db: Kysely<Database>): ResponseRepo {
  return {
    async put(row) {
      await db
        .insertInto("responses")
        .values(row)
        .onConflict((oc) => oc.column("id").doUpdateSet({ status: row.status, response: row.response, history: row.history, updated_at: row.updated_at }))
        .execute();
    },
    async insert(row, events) {
      await db.transaction().execute(async (tx) => {
        await tx
          .insertInto("responses")
          .values({ ...row, event_count: events.length })
          .execute();
        if (events.length > 0) await tx.insertInto("response_events").values(events.map((event, sequence) => ({ response_id: row.id, sequence, event }))).execute();
      });
    },
    async get(id) {
      return db.selectFrom("responses").selectAll().where("id", "=", id).executeTakeFirst();
    },
    advance(id, from, change, events, now) {
      return db.transaction().execute(async (tx) => {
        // The row's lock orders this write against any other that moves the same response (PostgreSQL re-reads the status after waiting).
        const moved = await tx
          .updateTable("responses")
          .set((eb) => ({ ...change, updated_at: now, event_count: eb("event_count", "+", events.length) }))
          .where("id", "=", id)
          .where("status", "in", from)
          .returning("event_count")
          .executeTakeFirst();
        if (!moved) return false;
        const first = moved.event_count - events.length;
        if (events.length > 0) await tx.insertInto("response_events").values(events.map((event, i) => ({ response_id: id, sequence: first + i, event }))).execute();
        return true;
      });
    },
    async setTask(id, taskId) {
      await db.updateTable("responses").set({ task_id: taskId }).where("id", "=", id).execute();
    },
    events(id, after, limit) {
      return db.selectFrom("response_events").select(["sequence", "event"]).where("response_id", "=", id).where("sequence", ">", after).orderBy("sequence").limit(limit).execute();
    },
    remove(id) {
      return db.transaction().execute(async (tx) => {
        await tx.deleteFrom("response_events").where("response_id", "=", id).execute();
        const result = await tx.deleteFrom("responses").where("id", "=", id).executeTakeFirst();
        return Number(result.numDeletedRows) > 0;
      });
    },
  };
}

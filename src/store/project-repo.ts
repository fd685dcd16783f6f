import type { Kysely } from "kysely";
import type { Database, ProjectRow } from "./schema.js";

export type ProjectChange = Partial<Pick<ProjectRow, "name" | "instruction" | "favorite" | "archived_at">>;

/** A page of an owner's projects: rows after a cursor, newest first ("desc") or oldest first. */
export interface ProjectQuery {
  limit: number;
  order: "asc" | "desc";
  after?: Pick<ProjectRow, "id" | "created_at">;
}

/** Every read leaves soft-deleted projects out. */
export interface ProjectRepo {
  insert(row: ProjectRow): Promise<void>;
  get(owner: string, id: string): Promise<ProjectRow | undefined>;
  list(owner: string, query: ProjectQuery): Promise<ProjectRow[]>;
  count(owner: string): Promise<number>;
  change(owner: string, id: string, change: ProjectChange, now: number): Promise<ProjectRow | undefined>;
  /** Soft-deletes a project; its conversations stay, out of the project. False when it is not the owner's (or gone). */
  remove(owner: string, id: string, now: number): Promise<boolean>;
}

export function projectRepo(db: Kysely<Database>): ProjectRepo {
  const live = (owner: string) => db.selectFrom("projects").where("owner", "=", owner).where("deleted_at", "is", null);
  return {
    async insert(row) {
      await db.insertInto("projects").values(row).execute();
    },
    get(owner, id) {
      return live(owner).selectAll().where("id", "=", id).executeTakeFirst();
    },
    list(owner, { after, order, limit }) {
      const cmp = order === "desc" ? "<" : ">";
      let q = live(owner).selectAll();
      if (after) q = q.where((eb) => eb.or([eb("created_at", cmp, after.created_at), eb.and([eb("created_at", "=", after.created_at), eb("id", cmp, after.id)])]));
      return q.orderBy("created_at", order).orderBy("id", order).limit(limit).execute();
    },
    async count(owner) {
      return Number((await live(owner).select((eb) => eb.fn.countAll<string | number>().as("n")).executeTakeFirstOrThrow()).n);
    },
    async change(owner, id, change, now) {
      await db.updateTable("projects").set({ ...change, updated_at: now }).where("id", "=", id).where("owner", "=", owner).where("deleted_at", "is", null).execute();
      return this.get(owner, id);
    },
    remove(owner, id, now) {
      return db.transaction().execute(async (tx) => {
        const result = await tx.updateTable("projects").set({ deleted_at: now, updated_at: now }).where("id", "=", id).where("owner", "=", owner).where("deleted_at", "is", null).executeTakeFirst();
        if (Number(result.numUpdatedRows) !== 1) return false;
        await tx.updateTable("conversations").set({ project_id: null }).where("owner", "=", owner).where("project_id", "=", id).execute();
        return true;
      });
    },
  };
}

import type { Kysely, Transaction } from "kysely";
import type { ConversationItemRow, ConversationRow, Database } from "./schema.js";

export const MAIN_BRANCH = "MAIN";

/** An item to store: its id and body (the item's JSON without id and time). */
export type NewItemRow = Pick<ConversationItemRow, "id" | "type" | "role" | "call_id" | "body">;

export type ConversationChange = Partial<Pick<ConversationRow, "title" | "project_id" | "metadata">>;

/** A page of a list: rows after a cursor, newest first ("desc") or oldest first. */
export interface ConversationQuery {
  limit: number;
  order: "asc" | "desc";
  /** the row the page starts after */
  after?: Pick<ConversationRow, "id" | "created_at">;
  projectId?: string;
  referrer?: string;
}

export interface ItemQuery {
  branch: string;
  limit: number;
  order: "asc" | "desc";
  /** the position the page starts after */
  afterPosition?: number;
}

/**
 * Which MAIN items a fork takes out of MAIN (positions `from` to `to`, inclusive;
 * `to` omitted: to the end). They move to the backup branch with their ids; the
 * MAIN items kept are copied there under `copyId`s, so the backup is the whole
 * old MAIN. `insert` then takes position `from` in MAIN (an edit's new item).
 */
export interface Fork {
  from: number;
  to?: number;
  backup: string;
  copyId(): string;
  insert?: NewItemRow;
}

export interface ConversationRepo {
  /** A new conversation with its first items, in one transaction. */
  insert(row: ConversationRow, items: readonly NewItemRow[]): Promise<ConversationItemRow[]>;
  get(owner: string, id: string): Promise<ConversationRow | undefined>;
  list(owner: string, query: ConversationQuery): Promise<ConversationRow[]>;
  count(owner: string, query: Pick<ConversationQuery, "projectId" | "referrer">): Promise<number>;
  /** Changes an owner's conversation; undefined when it is not theirs. */
  change(owner: string, id: string, change: ConversationChange, now: number): Promise<ConversationRow | undefined>;
  /** Removes those of `ids` the owner has (all of theirs when `ids` is undefined), with their items and shares; the ids removed. */
  remove(owner: string, ids: readonly string[] | undefined): Promise<string[]>;
  /** Appends items to MAIN, in order, and moves the conversation's updated_at; undefined when it is not the owner's. */
  append(owner: string, id: string, items: readonly NewItemRow[], now: number): Promise<ConversationItemRow[] | undefined>;
  items(conversationId: string, query: ItemQuery): Promise<ConversationItemRow[]>;
  /** Every item of a branch, oldest first, up to position `upTo` when given. */
  allItems(conversationId: string, branch: string, upTo?: number): Promise<ConversationItemRow[]>;
  item(conversationId: string, itemId: string): Promise<ConversationItemRow | undefined>;
  /** The first MAIN item with that call_id (a function_call before its output). */
  itemByCallId(conversationId: string, callId: string): Promise<ConversationItemRow | undefined>;
  countItems(conversationId: string, branch: string): Promise<number>;
  /** Makes a new MAIN as `fork` says, the old one kept as `fork.backup` (made unique), in one transaction; the backup's name. */
  fork(owner: string, conversationId: string, fork: Fork, now: number): Promise<string | undefined>;
}

const MAX_IDS_PER_STATEMENT = 500;

export function conversationRepo(db: Kysely<Database>): ConversationRepo {
  return {
    async insert(row, items) {
      return db.transaction().execute(async (tx) => {
        await tx
          .insertInto("conversations")
          .values({ ...row, next_position: items.length })
          .execute();
        return insertItems(tx, row.id, MAIN_BRANCH, 0, items, row.created_at);
      });
    },
    get(owner, id) {
      return db.selectFrom("conversations").selectAll().where("id", "=", id).where("owner", "=", owner).executeTakeFirst();
    },
    list(owner, query) {
      const { after, order } = query;
      const cmp = order === "desc" ? "<" : ">";
      let q = db.selectFrom("conversations").selectAll().where("owner", "=", owner);
      if (query.projectId !== undefined) q = q.where("project_id", "=", query.projectId);
      if (query.referrer !== undefined) q = q.where("referrer", "=", query.referrer);
      if (after) q = q.where((eb) => eb.or([eb("created_at", cmp, after.created_at), eb.and([eb("created_at", "=", after.created_at), eb("id", cmp, after.id)])]));
      return q.orderBy("created_at", order).orderBy("id", order).limit(query.limit).execute();
    },
    async count(owner, query) {
      let q = db.selectFrom("conversations").select((eb) => eb.fn.countAll<string | number>().as("n")).where("owner", "=", owner);
      if (query.projectId !== undefined) q = q.where("project_id", "=", query.projectId);
      if (query.referrer !== undefined) q = q.where("referrer", "=", query.referrer);
      return Number((await q.executeTakeFirstOrThrow()).n);
    },
    async change(owner, id, change, now) {
      await db.updateTable("conversations").set({ ...change, updated_at: now }).where("id", "=", id).where("owner", "=", owner).execute();
      return this.get(owner, id);
    },
    async remove(owner, ids) {
      if (ids?.length === 0) return [];
      return db.transaction().execute(async (tx) => {
        let q = tx.selectFrom("conversations").select("id").where("owner", "=", owner);
        if (ids) q = q.where("id", "in", [...ids]);
        const found = (await q.execute()).map((r) => r.id);
        for (let i = 0; i < found.length; i += MAX_IDS_PER_STATEMENT) {
          const chunk = found.slice(i, i + MAX_IDS_PER_STATEMENT);
          await tx.deleteFrom("conversation_items").where("conversation_id", "in", chunk).execute();
          await tx.deleteFrom("conversation_shares").where("conversation_id", "in", chunk).execute();
          await tx.deleteFrom("conversations").where("id", "in", chunk).execute();
        }
        return found;
      });
    },
    append(owner, id, items, now) {
      return db.transaction().execute(async (tx) => {
        const moved = await takePositions(tx, owner, id, items.length, now);
        if (moved === undefined) return undefined;
        return insertItems(tx, id, MAIN_BRANCH, moved, items, now);
      });
    },
    items(conversationId, query) {
      let q = db.selectFrom("conversation_items").selectAll().where("conversation_id", "=", conversationId).where("branch", "=", query.branch);
      if (query.afterPosition !== undefined) q = q.where("position", query.order === "desc" ? "<" : ">", query.afterPosition);
      return q.orderBy("position", query.order).limit(query.limit).execute();
    },
    allItems(conversationId, branch, upTo) {
      let q = db.selectFrom("conversation_items").selectAll().where("conversation_id", "=", conversationId).where("branch", "=", branch);
      if (upTo !== undefined) q = q.where("position", "<=", upTo);
      return q.orderBy("position").execute();
    },
    item(conversationId, itemId) {
      return db.selectFrom("conversation_items").selectAll().where("conversation_id", "=", conversationId).where("id", "=", itemId).executeTakeFirst();
    },
    itemByCallId(conversationId, callId) {
      return db
        .selectFrom("conversation_items")
        .selectAll()
        .where("conversation_id", "=", conversationId)
        .where("call_id", "=", callId)
        .where("branch", "=", MAIN_BRANCH)
        .orderBy("position")
        .limit(1)
        .executeTakeFirst();
    },
    async countItems(conversationId, branch) {
      const row = await db
        .selectFrom("conversation_items")
        .select((eb) => eb.fn.countAll<string | number>().as("n"))
        .where("conversation_id", "=", conversationId)
        .where("branch", "=", branch)
        .executeTakeFirstOrThrow();
      return Number(row.n);
    },
    fork(owner, conversationId, fork, now) {
      return db.transaction().execute(async (tx) => {
        // Taking no position still locks the conversation's row: forks and appends of one conversation go one at a time.
        if ((await takePositions(tx, owner, conversationId, 0, now)) === undefined) return undefined;
        return forkMain(tx, conversationId, fork, now);
      });
    },
  };
}

/** Moves the conversation's next position on by `n` (and its updated_at); the first position taken, or undefined when it is not the owner's. */
async function takePositions(tx: Transaction<Database>, owner: string, id: string, n: number, now: number): Promise<number | undefined> {
  const row = await tx
    .updateTable("conversations")
    .set((eb) => ({ next_position: eb("next_position", "+", n), updated_at: now }))
    .where("id", "=", id)
    .where("owner", "=", owner)
    .returning("next_position")
    .executeTakeFirst();
  return row === undefined ? undefined : row.next_position - n;
}

async function insertItems(tx: Transaction<Database>, conversationId: string, branch: string, first: number, items: readonly NewItemRow[], now: number): Promise<ConversationItemRow[]> {
  const rows = items.map((item, i): ConversationItemRow => ({ ...item, conversation_id: conversationId, branch, position: first + i, created_at: now }));
  if (rows.length > 0) await tx.insertInto("conversation_items").values(rows).execute();
  return rows;
}

async function forkMain(tx: Transaction<Database>, conversationId: string, fork: Fork, now: number): Promise<string> {
  const backup = await unusedBranchName(tx, conversationId, fork.backup);
  const inRange = (position: number) => position >= fork.from && (fork.to === undefined || position <= fork.to);
  const main = await tx.selectFrom("conversation_items").selectAll().where("conversation_id", "=", conversationId).where("branch", "=", MAIN_BRANCH).orderBy("position").execute();
  const moved = main.filter((row) => inRange(row.position)).map((row) => row.id);
  for (let i = 0; i < moved.length; i += MAX_IDS_PER_STATEMENT) {
    await tx.updateTable("conversation_items").set({ branch: backup }).where("id", "in", moved.slice(i, i + MAX_IDS_PER_STATEMENT)).execute();
  }
  const copies = main.filter((row) => !inRange(row.position)).map((row) => ({ ...row, id: fork.copyId(), branch: backup }));
  for (let i = 0; i < copies.length; i += MAX_IDS_PER_STATEMENT) await tx.insertInto("conversation_items").values(copies.slice(i, i + MAX_IDS_PER_STATEMENT)).execute();
  if (fork.insert) await insertItems(tx, conversationId, MAIN_BRANCH, fork.from, [fork.insert], now);
  return backup;
}

async function unusedBranchName(tx: Transaction<Database>, conversationId: string, wanted: string): Promise<string> {
  const taken = new Set(
    (await tx.selectFrom("conversation_items").select("branch").distinct().where("conversation_id", "=", conversationId).where("branch", "like", `${wanted}%`).execute()).map((r) => r.branch),
  );
  let name = wanted;
  for (let n = 2; taken.has(name); n++) name = `${wanted}_${n}`;
  return name;
}

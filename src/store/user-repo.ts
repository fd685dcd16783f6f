import { sql, type Kysely } from "kysely";
import type { Dialect } from "./connect.js";
import type { Database, SessionRow, UserIdentityRow, UserRole, UserRow } from "./schema.js";

export interface UserUpdate {
  display_name?: string | null;
  password_hash?: string | null;
  role?: UserRole;
  last_login_at?: number;
  username?: string;
  email?: string | null;
  settings?: string;
}

export interface UserRepo {
  count(): Promise<number>;
  /** Rejects when the id or the username is taken. */
  insert(row: UserRow): Promise<void>;
  /**
   * Inserts only while no user exists (first-run setup): false when one does.
   * Guests do not count, or anyone could block setup by asking for a guest account.
   * Two concurrent calls cannot both succeed.
   */
  insertFirst(row: UserRow): Promise<boolean>;
  /** Whether an account other than a guest exists: while none does, first-run setup is open. */
  hasAccount(): Promise<boolean>;
  get(id: string): Promise<UserRow | undefined>;
  findByUsername(username: string): Promise<UserRow | undefined>;
  /** Oldest first. */
  list(): Promise<UserRow[]>;
  /** The updated row, or undefined when there is no such user. */
  update(id: string, changes: UserUpdate, at: number): Promise<UserRow | undefined>;
  /** Deletes the user, their sessions and their API keys; false when there was none. */
  remove(id: string): Promise<boolean>;
  /** The user an OIDC identity is linked to. */
  findByIdentity(issuer: string, subject: string): Promise<UserRow | undefined>;
  /** Rejects when the identity is linked already. */
  linkIdentity(row: UserIdentityRow): Promise<void>;
}

export interface SessionRepo {
  insert(row: SessionRow): Promise<void>;
  findByHash(tokenHash: string): Promise<SessionRow | undefined>;
  get(id: string): Promise<SessionRow | undefined>;
  /**
   * A token session's refresh: replaces its token hash `from` by `to` and
   * keeps `from` as spent, in one transaction. False when the session no
   * longer holds `from` (another refresh won, or it ended).
   */
  rotate(id: string, from: string, to: string, expiresAt: number, at: number): Promise<boolean>;
  /** The session a spent refresh token belonged to, if it is still stored. */
  findSpent(tokenHash: string): Promise<string | undefined>;
  remove(id: string): Promise<void>;
  removeForUser(userId: string): Promise<void>;
  /** Deletes sessions that expired before `now`; returns how many. */
  removeExpired(now: number): Promise<number>;
}

export function userRepo(db: Kysely<Database>, dialect: Dialect): UserRepo {
  return {
    async count() {
      const row = await db.selectFrom("users").select((eb) => eb.fn.countAll<number>().as("n")).executeTakeFirstOrThrow();
      return Number(row.n);
    },
    async insert(row) {
      await db.insertInto("users").values(row).execute();
    },
    async hasAccount() {
      return (await db.selectFrom("users").select("id").where("role", "!=", "guest").limit(1).executeTakeFirst()) !== undefined;
    },
    insertFirst: (row) =>
      db.transaction().execute(async (tx) => {
        // Two replicas setting up at once must not both see an empty table. SQLite's
        // writers are serialised already; PostgreSQL's are here, by a table lock.
        if (dialect === "postgres") await sql`LOCK TABLE users IN SHARE ROW EXCLUSIVE MODE`.execute(tx);
        const existing = await tx.selectFrom("users").select("id").where("role", "!=", "guest").limit(1).executeTakeFirst();
        if (existing) return false;
        await tx.insertInto("users").values(row).execute();
        return true;
      }),
    get: (id) => db.selectFrom("users").selectAll().where("id", "=", id).executeTakeFirst(),
    findByUsername: (username) => db.selectFrom("users").selectAll().where("username", "=", username).executeTakeFirst(),
    list: () => db.selectFrom("users").selectAll().orderBy("created_at").orderBy("id").execute(),
    async update(id, changes, at) {
      await db.updateTable("users").set({ ...changes, updated_at: at }).where("id", "=", id).execute();
      return db.selectFrom("users").selectAll().where("id", "=", id).executeTakeFirst();
    },
    remove: (id) =>
      db.transaction().execute(async (tx) => {
        await tx.deleteFrom("sessions").where("user_id", "=", id).execute();
        await tx.updateTable("api_keys").set({ revoked_at: Date.now() }).where("user_id", "=", id).where("revoked_at", "is", null).execute();
        const result = await tx.deleteFrom("users").where("id", "=", id).executeTakeFirst();
        return result.numDeletedRows > 0n;
      }),
    findByIdentity: (issuer, subject) =>
      db
        .selectFrom("user_identities")
        .innerJoin("users", "users.id", "user_identities.user_id")
        .selectAll("users")
        .where("user_identities.issuer", "=", issuer)
        .where("user_identities.subject", "=", subject)
        .executeTakeFirst(),
    async linkIdentity(row) {
      await db.insertInto("user_identities").values(row).execute();
    },
  };
}

export function sessionRepo(db: Kysely<Database>): SessionRepo {
  return {
    async insert(row) {
      await db.insertInto("sessions").values(row).execute();
    },
    findByHash: (tokenHash) => db.selectFrom("sessions").selectAll().where("token_hash", "=", tokenHash).executeTakeFirst(),
    get: (id) => db.selectFrom("sessions").selectAll().where("id", "=", id).executeTakeFirst(),
    rotate: (id, from, to, expiresAt, at) =>
      db.transaction().execute(async (tx) => {
        const result = await tx
          .updateTable("sessions")
          .set({ token_hash: to, expires_at: expiresAt })
          .where("id", "=", id)
          .where("token_hash", "=", from)
          .where("kind", "=", "token")
          .executeTakeFirst();
        if (result.numUpdatedRows === 0n) return false;
        await tx.insertInto("spent_refresh_tokens").values({ token_hash: from, session_id: id, spent_at: at }).execute();
        return true;
      }),
    async findSpent(tokenHash) {
      const row = await db.selectFrom("spent_refresh_tokens").select("session_id").where("token_hash", "=", tokenHash).executeTakeFirst();
      return row?.session_id;
    },
    async remove(id) {
      await db.deleteFrom("sessions").where("id", "=", id).execute();
    },
    async removeForUser(userId) {
      await db.deleteFrom("sessions").where("user_id", "=", userId).execute();
    },
    async removeExpired(now) {
      const result = await db.deleteFrom("sessions").where("expires_at", "<", now).executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}

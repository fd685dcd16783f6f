import { randomBytes, randomUUID } from "node:crypto";
import { hashKey } from "../server/auth.js";
import type { Store, UserRole, UserRow } from "../store/index.js";

export interface SessionPrincipal {
  sessionId: string;
  userId: string;
  role: UserRole;
  expiresAt: number;
}

interface Cached extends SessionPrincipal {
  checkedAt: number;
}

/** A cached session is re-read from the database after this long, so a logout on another replica takes effect. */
const RECHECK_MS = 30_000;
const CACHE_MAX = 10_000;

export const SESSION_COOKIE = "flotilla_session";

/**
 * Login sessions: a random token in an HttpOnly cookie, its hash in the
 * database. Known sessions are answered from memory; a new one is read once.
 */
export class Sessions {
  private readonly cache = new Map<string, Cached>();

  constructor(
    private readonly store: Store,
    readonly ttlMs: number,
  ) {}

  async create(user: UserRow): Promise<{ token: string; expiresAt: number }> {
    const token = `fls_${randomBytes(32).toString("base64url")}`;
    const now = Date.now();
    const row = { id: `ses_${randomUUID().replace(/-/g, "")}`, user_id: user.id, token_hash: hashKey(token), created_at: now, expires_at: now + this.ttlMs };
    await this.store.sessions.insert(row);
    this.remember(row.token_hash, { sessionId: row.id, userId: user.id, role: user.role, expiresAt: row.expires_at, checkedAt: now });
    return { token, expiresAt: row.expires_at };
  }

  /** The session behind a cookie token; synchronous when it was seen lately. */
  lookup(token: string): SessionPrincipal | undefined | Promise<SessionPrincipal | undefined> {
    const hash = hashKey(token);
    const cached = this.cache.get(hash);
    const now = Date.now();
    if (cached && now - cached.checkedAt < RECHECK_MS) return cached.expiresAt > now ? cached : undefined;
    return this.load(hash, now);
  }

  async end(token: string): Promise<void> {
    const hash = hashKey(token);
    const session = await this.store.sessions.findByHash(hash);
    this.cache.delete(hash);
    if (session) await this.store.sessions.remove(session.id);
  }

  /** After a role change or a deletion: cached sessions of the user are read again on next use. */
  forgetUser(userId: string): void {
    for (const [hash, session] of this.cache) if (session.userId === userId) this.cache.delete(hash);
  }

  private async load(hash: string, now: number): Promise<SessionPrincipal | undefined> {
    const row = await this.store.sessions.findByHash(hash);
    const user = row && row.expires_at > now ? await this.store.users.get(row.user_id) : undefined;
    if (!row || !user) {
      this.cache.delete(hash);
      return undefined;
    }
    const session = { sessionId: row.id, userId: user.id, role: user.role, expiresAt: row.expires_at, checkedAt: now };
    this.remember(hash, session);
    return session;
  }

  private remember(hash: string, session: Cached): void {
    if (this.cache.size >= CACHE_MAX) this.cache.delete(this.cache.keys().next().value as string);
    this.cache.set(hash, session);
  }
}

/** The session token from a Cookie header, if any. */
export function sessionToken(cookieHeader: string | undefined): string | undefined {
  if (!cookieHeader) return undefined;
  for (const part of cookieHeader.split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === SESSION_COOKIE) return decodeURIComponent(part.slice(eq + 1).trim());
  }
  return undefined;
}

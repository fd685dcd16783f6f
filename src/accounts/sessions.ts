import { randomBytes, randomUUID } from "node:crypto";
import type { FastifyRequest } from "fastify";
import { hashKey } from "../kernel/index.js";
import type { SessionKind, SessionRow, Store, UserRole, UserRow } from "../store/index.js";

export interface SessionPrincipal {
  sessionId: string;
  userId: string;
  role: UserRole;
  expiresAt: number;
}

interface Cached extends SessionPrincipal {
  checkedAt: number;
}

/** A refresh's outcome: new tokens, a replayed (spent) token that ended its session, or nothing valid. */
export type RefreshOutcome = { kind: "rotated"; sessionId: string; userId: string; token: string; expiresAt: number } | { kind: "reused" } | { kind: "invalid" };

/** A cached session is re-read from the database after this long, so a logout on another replica takes effect. */
const RECHECK_MS = 30_000;
const CACHE_MAX = 10_000;

export const SESSION_COOKIE = "flotilla_session";
const TOKEN_PREFIX: Record<SessionKind, string> = { cookie: "fls_", token: "flr_" };

/**
 * Login sessions of both kinds: a dashboard cookie, or seed 002's token
 * family (short-lived access tokens naming the session, and a refresh token
 * that is replaced at each use). Only token hashes are stored. Known sessions
 * are answered from memory; a new one is read once.
 */
export class Sessions {
  /** "c:<hash>" for cookie sessions, "s:<id>" for token sessions. */
  private readonly cache = new Map<string, Cached>();

  constructor(
    private readonly store: Store,
    readonly ttlMs: number,
    readonly refreshTtlMs: number,
  ) {}

  async create(user: UserRow, kind: SessionKind = "cookie"): Promise<{ token: string; sessionId: string; expiresAt: number }> {
    const token = newToken(kind);
    const now = Date.now();
    const row: SessionRow = {
      id: `ses_${randomUUID().replace(/-/g, "")}`,
      user_id: user.id,
      token_hash: hashKey(token),
      created_at: now,
      expires_at: now + (kind === "cookie" ? this.ttlMs : this.refreshTtlMs),
      kind,
    };
    await this.store.sessions.insert(row);
    const cached = { sessionId: row.id, userId: user.id, role: user.role, expiresAt: row.expires_at, checkedAt: now };
    this.remember(kind === "cookie" ? `c:${row.token_hash}` : `s:${row.id}`, cached);
    return { token, sessionId: row.id, expiresAt: row.expires_at };
  }

  /** The cookie session behind a cookie token; synchronous when it was seen lately. */
  lookup(token: string): SessionPrincipal | undefined | Promise<SessionPrincipal | undefined> {
    const hash = hashKey(token);
    return this.cached(`c:${hash}`) ?? this.load(`c:${hash}`, () => this.store.sessions.findByHash(hash), "cookie");
  }

  /** The token session an access token names; synchronous when it was seen lately. */
  lookupById(sessionId: string): SessionPrincipal | undefined | Promise<SessionPrincipal | undefined> {
    return this.cached(`s:${sessionId}`) ?? this.load(`s:${sessionId}`, () => this.store.sessions.get(sessionId), "token");
  }

  /**
   * Exchanges a refresh token for a new one. A token presented a second
   * time (stolen, or replayed) ends its whole session: both holders must sign in again.
   */
  async refresh(refreshToken: string): Promise<RefreshOutcome> {
    const hash = hashKey(refreshToken);
    const now = Date.now();
    const row = await this.store.sessions.findByHash(hash);
    if (row && row.kind === "token" && row.expires_at > now) {
      const token = newToken("token");
      const expiresAt = now + this.refreshTtlMs;
      if (await this.store.sessions.rotate(row.id, hash, hashKey(token), expiresAt, now)) return { kind: "rotated", sessionId: row.id, userId: row.user_id, token, expiresAt };
      // Another refresh with the same token won the race: the token was used twice.
      await this.endSession(row.id);
      return { kind: "reused" };
    }
    const spentIn = row ? undefined : await this.store.sessions.findSpent(hash);
    if (spentIn) {
      await this.endSession(spentIn);
      return { kind: "reused" };
    }
    return { kind: "invalid" };
  }

  /** Ends the session a cookie or refresh token belongs to; false when it names none. */
  async endByToken(token: string): Promise<boolean> {
    const hash = hashKey(token);
    this.cache.delete(`c:${hash}`);
    const session = await this.store.sessions.findByHash(hash);
    if (session) await this.endSession(session.id);
    return session !== undefined;
  }

  async endSession(sessionId: string): Promise<void> {
    this.cache.delete(`s:${sessionId}`);
    for (const [key, session] of this.cache) if (session.sessionId === sessionId) this.cache.delete(key);
    await this.store.sessions.remove(sessionId);
  }

  /** After a role change or a deletion: cached sessions of the user are read again on next use. */
  forgetUser(userId: string): void {
    for (const [key, session] of this.cache) if (session.userId === userId) this.cache.delete(key);
  }

  private cached(key: string): SessionPrincipal | undefined {
    const cached = this.cache.get(key);
    const now = Date.now();
    return cached && now - cached.checkedAt < RECHECK_MS && cached.expiresAt > now ? cached : undefined;
  }

  private async load(key: string, read: () => Promise<SessionRow | undefined>, kind: SessionKind): Promise<SessionPrincipal | undefined> {
    const now = Date.now();
    const row = await read();
    const user = row && row.kind === kind && row.expires_at > now ? await this.store.users.get(row.user_id) : undefined;
    if (!row || !user) {
      this.cache.delete(key);
      return undefined;
    }
    const session = { sessionId: row.id, userId: user.id, role: user.role, expiresAt: row.expires_at, checkedAt: now };
    this.remember(key, session);
    return session;
  }

  private remember(key: string, session: Cached): void {
    if (this.cache.size >= CACHE_MAX) this.cache.delete(this.cache.keys().next().value as string);
    this.cache.set(key, session);
  }
}

function newToken(kind: SessionKind): string {
  return `${TOKEN_PREFIX[kind]}${randomBytes(32).toString("base64url")}`;
}

/** A Set-Cookie value: HttpOnly (no script reads it), SameSite=Lax, Secure behind HTTPS. */
export function setCookie(req: FastifyRequest, name: string, value: string, maxAgeMs: number, path = "/"): string {
  // X-Forwarded-Proto is believed from anyone: all it can do is make the cookie stricter.
  const secure = req.protocol === "https" || req.headers["x-forwarded-proto"] === "https" ? "; Secure" : "";
  return `${name}=${value}; HttpOnly; SameSite=Lax; Path=${path}; Max-Age=${Math.floor(maxAgeMs / 1000)}${secure}`;
}

/** A cookie's value from a Cookie header, if any. */
export function cookieValue(cookieHeader: string | undefined, name: string): string | undefined {
  if (!cookieHeader) return undefined;
  for (const part of cookieHeader.split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === name) return decodedCookie(part.slice(eq + 1).trim());
  }
  return undefined;
}

/** Flotilla's own cookie values never need decoding; one that does not decode is taken as sent (and then not found). */
function decodedCookie(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

/** The session token from a Cookie header, if any. */
export function sessionToken(cookieHeader: string | undefined): string | undefined {
  return cookieValue(cookieHeader, SESSION_COOKIE);
}

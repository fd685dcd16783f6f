import { isoTime } from "../kernel/index.js";
import { randomBytes } from "node:crypto";
import type { FastifyReply, FastifyRequest } from "fastify";
import type { Config } from "../config/index.js";
import type { CredentialResolver, Principal } from "../kernel/index.js";
import type { Keyring } from "./keyring.js";
import type { Store, UserRow } from "../store/index.js";
import { AccessTokens, looksLikeJwt } from "./access-tokens.js";
import { OidcLogin } from "./oidc.js";
import { MemoryRateCounter, RedisRateCounter, type RateCounter } from "./rate-counter.js";
import { anyLimit, RateLimits, TokenBudgets } from "./rate-limits.js";
import { SESSION_COOKIE, Sessions, sessionToken, setCookie, type SessionPrincipal } from "./sessions.js";

/** Seed 002's token answer: `expires_in` in seconds, as OAuth has it. */
export interface TokenPair {
  access_token: string;
  refresh_token: string;
  token_type: "Bearer";
  expires_in: number;
  expires_at: string;
}

const SIGNING_KEY = "access_token_signing_key";

/** Who is who: users' keys, sessions and access tokens, behind one object the routes and the auth layer share. */
export class Accounts {
  private constructor(
    readonly store: Store,
    readonly keyring: Keyring,
    readonly sessions: Sessions,
    readonly tokens: AccessTokens,
    readonly config: Readonly<Config>,
    /** Present when `auth.oidc` is configured. */
    readonly oidc: OidcLogin | undefined,
    readonly limits: RateLimits,
    private readonly counter: RateCounter,
  ) {}

  static async open(store: Store, keyring: Keyring, config: Readonly<Config>, log: { warn(message: string): void }): Promise<Accounts> {
    const secret = config.auth.token_secret ?? (await store.secrets.getOrCreate(SIGNING_KEY, randomBytes(32).toString("base64url")));
    const sessions = new Sessions(store, config.auth.session_ttl_ms, config.auth.refresh_ttl_ms);
    const oidc = config.auth.oidc && new OidcLogin(config.auth.oidc, Buffer.from(secret));
    // Replicas share their counts through Redis when there is one; limits are then per gateway, not per replica.
    const counter = anyLimit(config.auth) && config.redis_url ? new RedisRateCounter(config.redis_url, `${config.redis_prefix}rate:`) : new MemoryRateCounter();
    let warned = 0;
    const limits = new RateLimits(config.auth.rate_limits, config.auth.guest_limits.requests_per_minute, counter, new TokenBudgets(store), (err) => {
      if (Date.now() - warned < 60_000) return;
      warned = Date.now();
      log.warn(`rate limits are not enforced: cannot count in Redis (${(err as Error).message})`);
    });
    return new Accounts(store, keyring, sessions, new AccessTokens(Buffer.from(secret), config.auth.access_ttl_ms), config, oidc, limits, counter);
  }

  async close(): Promise<void> {
    await this.counter.close();
  }

  /** What the auth layer asks of sessions and access tokens. */
  credentials(): CredentialResolver {
    const principal = (via: "session" | "token") => (s: SessionPrincipal | undefined): Principal | undefined => s && { via, role: s.role, userId: s.userId, sessionId: s.sessionId };
    const bySession = principal("session");
    const byToken = principal("token");
    return {
      cookieToken: (req) => sessionToken(req.headers.cookie),
      session: (token) => {
        const found = this.sessions.lookup(token);
        return found instanceof Promise ? found.then(bySession) : bySession(found);
      },
      isAccessToken: looksLikeJwt,
      accessToken: (token) => {
        const claims = this.tokens.verify(token);
        const found = claims && this.sessions.lookupById(claims.sid);
        return found instanceof Promise ? found.then(byToken) : byToken(found);
      },
    };
  }

  /** A dashboard login: the session cookie is set on `reply`; returns the user with this login's time. */
  async startCookieSession(req: FastifyRequest, reply: FastifyReply, user: UserRow): Promise<UserRow> {
    const { token } = await this.sessions.create(user, "cookie");
    void reply.header("set-cookie", setCookie(req, SESSION_COOKIE, token, this.sessions.ttlMs));
    return (await this.store.users.update(user.id, { last_login_at: Date.now() }, user.updated_at)) ?? user;
  }

  /** A new token session for `user`: an access token and the first refresh token. */
  async startTokenSession(user: UserRow): Promise<TokenPair> {
    const { token, sessionId } = await this.sessions.create(user, "token");
    return this.pair(user.id, sessionId, token);
  }

  pair(userId: string, sessionId: string, refreshToken: string): TokenPair {
    const access = this.tokens.sign(userId, sessionId);
    return {
      access_token: access.token,
      refresh_token: refreshToken,
      token_type: "Bearer",
      expires_in: Math.round(this.tokens.ttlMs / 1000),
      expires_at: isoTime(access.expiresAt),
    };
  }
}

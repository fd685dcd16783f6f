import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { FlotillaError } from "./errors.js";

/**
 * Who may call a route. Declared on every route (`config.auth`); a route
 * registered without it fails at start, so none can forget.
 * - public: anyone
 * - inference: an API key or a session, or anyone when `auth.proxy: open`
 * - user: an API key or a session, always
 * - admin: an admin's key or session, always
 */
export type AuthLevel = "public" | "inference" | "user" | "admin";

export type Role = "admin" | "user" | "guest";

/** Who is asking: by an API key (keyId), a login session (sessionId), or both unknown for the open proxy. */
export interface Principal {
  role: Role;
  keyId?: string;
  userId?: string;
  sessionId?: string;
}

export interface KeyRecord {
  id: string;
  hash: string;
  role: Role;
  user_id: string | null;
  expires_at: number | null;
  revoked_at: number | null;
}

/** Resolves a login session's cookie token; synchronous when it is cached. */
export interface SessionResolver {
  cookieToken(req: FastifyRequest): string | undefined;
  lookup(token: string): SessionLike | undefined | Promise<SessionLike | undefined>;
}

interface SessionLike {
  sessionId: string;
  userId: string;
  role: Role;
}

declare module "fastify" {
  interface FastifyContextConfig {
    auth?: AuthLevel;
  }
  interface FastifyRequest {
    principal?: Principal;
  }
}

export function hashKey(key: string): string {
  return createHash("sha256").update(key).digest("hex");
}

export function generateKey(): string {
  return `flt_${randomBytes(24).toString("base64url")}`;
}

/** The hashes of valid keys, held in memory so no request waits on the database. */
export class Keyring {
  private readonly byHash = new Map<string, KeyRecord>();
  /** Key ids used since the last drain, for a batched last_used_at update. */
  readonly used = new Set<string>();

  load(records: KeyRecord[]): void {
    this.byHash.clear();
    for (const r of records) this.byHash.set(r.hash, r);
  }

  add(record: KeyRecord): void {
    this.byHash.set(record.hash, record);
  }

  /** A user's keys stop working at once (the user was deleted). */
  revokeUser(userId: string, at = Date.now()): void {
    for (const record of this.byHash.values()) if (record.user_id === userId && record.revoked_at === null) record.revoked_at = at;
  }

  /** A user's keys carry the user's role. */
  setUserRole(userId: string, role: Role): void {
    for (const record of this.byHash.values()) if (record.user_id === userId) record.role = role;
  }

  verify(token: string): Principal | undefined {
    const hash = hashKey(token);
    const record = this.byHash.get(hash);
    if (!record || !sameHash(record.hash, hash)) return undefined;
    if (record.revoked_at !== null || (record.expires_at !== null && record.expires_at <= Date.now())) return undefined;
    this.used.add(record.id);
    return record.user_id === null ? { keyId: record.id, role: record.role } : { keyId: record.id, userId: record.user_id, role: record.role };
  }
}

function sameHash(a: string, b: string): boolean {
  return a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));
}

/** `Authorization: Bearer K`, or seed 004's `X-Ollama-Api-Key: K`. */
export function presentedKey(req: FastifyRequest): string | undefined {
  const header = req.headers.authorization;
  if (header && header.length > 7 && header.slice(0, 7).toLowerCase() === "bearer ") return header.slice(7).trim();
  const alt = req.headers["x-ollama-api-key"];
  return typeof alt === "string" && alt ? alt : undefined;
}

const SWAGGER_UI_PREFIX = "/api/client";

const LEVEL_NAMES: Record<Exclude<AuthLevel, "public">, string> = {
  inference: "an API key is required: send Authorization: Bearer <key>",
  user: "sign in or send an API key",
  admin: "an API key is required: send Authorization: Bearer <key>",
};

/** Whether `principal` may call a route of `level`. */
function allowed(level: Exclude<AuthLevel, "public">, principal: Principal | undefined, proxyMode: "key" | "open"): boolean {
  if (level === "inference") return Boolean(principal) || proxyMode === "open";
  if (level === "user") return Boolean(principal);
  return principal?.role === "admin";
}

function refusal(level: Exclude<AuthLevel, "public">, presented: boolean, principal: Principal | undefined): FlotillaError {
  if (!presented) return new FlotillaError("unauthorized", LEVEL_NAMES[level]);
  if (!principal) return new FlotillaError("unauthorized", "the API key or session is not valid");
  return new FlotillaError("forbidden", "this endpoint needs an admin");
}

/**
 * Sets req.principal from the presented key, or else the session cookie;
 * returns the error that refuses the request, if any. Synchronous unless a
 * session must be read from the database.
 */
function authorize(
  req: FastifyRequest,
  keyring: Keyring,
  proxyMode: "key" | "open",
  sessions: SessionResolver | undefined,
): FlotillaError | undefined | Promise<FlotillaError | undefined> {
  const level = req.routeOptions.config.auth ?? "public";
  if (level === "public") return undefined;
  const token = presentedKey(req);
  if (token !== undefined) {
    const principal = keyring.verify(token);
    if (principal) req.principal = principal;
    return allowed(level, principal, proxyMode) ? undefined : refusal(level, true, principal);
  }
  const cookie = sessions?.cookieToken(req);
  if (cookie === undefined || !sessions) return allowed(level, undefined, proxyMode) ? undefined : refusal(level, false, undefined);
  const settle = (session: SessionLike | undefined) => {
    const principal = session && { role: session.role, userId: session.userId, sessionId: session.sessionId };
    if (principal) req.principal = principal;
    return allowed(level, principal, proxyMode) ? undefined : refusal(level, true, principal);
  };
  const found = sessions.lookup(cookie);
  return found instanceof Promise ? found.then(settle) : settle(found);
}

export function registerAuth(app: FastifyInstance, keyring: Keyring, proxyMode: "key" | "open", sessions?: SessionResolver): void {
  app.addHook("onRoute", (route) => {
    const config = (route.config ?? {}) as { auth?: AuthLevel };
    if (config.auth) return;
    if (route.url.startsWith(SWAGGER_UI_PREFIX)) {
      route.config = { ...config, auth: "public" };
      return;
    }
    throw new Error(`route ${route.method} ${route.url} declares no auth level`);
  });

  // A callback hook, not an async one: it runs on every request and rarely needs to wait.
  app.addHook("onRequest", function authenticate(req, _reply, done) {
    const result = authorize(req, keyring, proxyMode, sessions);
    if (result instanceof Promise) result.then(done, done);
    else done(result);
  });
}

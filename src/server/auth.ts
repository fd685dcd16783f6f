import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { FlotillaError } from "./errors.js";

/**
 * Who may call a route. Declared on every route (`config.auth`); a route
 * registered without it fails at start, so none can forget.
 * - public: anyone
 * - inference: a key with the `inference` scope, a session or an access token; anyone when `auth.proxy: open`
 * - user: anyone signed in (a key, a session, an access token), guests included
 * - member: signed in, and not a guest
 * - owner: signed in, and the addressed resource is theirs (`config.owner` says whose it is); others get 404
 * - admin: an admin, by session, access token, or a key with the `admin` scope
 */
export type AuthLevel = "public" | "inference" | "user" | "member" | "owner" | "admin";

export type Role = "admin" | "user" | "guest";
export type Scope = "inference" | "admin";

/** Who is asking: by an API key (keyId, scopes), a login session or access token (sessionId), or nobody known for the open proxy. */
export interface Principal {
  role: Role;
  via: "key" | "session" | "token";
  keyId?: string;
  userId?: string;
  sessionId?: string;
  /** A key's scopes; sessions and access tokens act with all of their role's. */
  scopes?: readonly Scope[];
  /** A key's tokens per UTC day, when it has a budget. */
  dailyTokenBudget?: number;
  /** The gateway running a queued task for this key: its budget applies; its request limits were counted when the task was queued. */
  forTask?: boolean;
}

/** The gateway's own key for the tasks it runs; with TASK_KEY_HEADER it acts as the key that queued the task. */
export const TASK_RUNNER_KEY_ID = "key_task_runner";
export const TASK_KEY_HEADER = "x-flotilla-task-key";

export interface KeyRecord {
  id: string;
  hash: string;
  role: Role;
  user_id: string | null;
  expires_at: number | null;
  revoked_at: number | null;
  scopes: readonly Scope[];
  daily_token_budget: number | null;
}

type Maybe<T> = T | undefined | Promise<T | undefined>;

/** Resolves the credentials that are not API keys: the session cookie and access tokens. */
export interface CredentialResolver {
  cookieToken(req: WithHeaders): string | undefined;
  session(token: string): Maybe<Principal>;
  /** Whether a bearer token is an access token rather than an API key. */
  isAccessToken(token: string): boolean;
  accessToken(token: string): Maybe<Principal>;
}

/** Whose the resource a request addresses is (a user id), or undefined when there is none. */
export type OwnerOf = (req: FastifyRequest) => Promise<string | null | undefined>;

declare module "fastify" {
  interface FastifyContextConfig {
    auth?: AuthLevel;
    owner?: OwnerOf;
    /** On a public route: recognise a caller who sends credentials (req.principal), never refusing one who does not. */
    identify?: boolean;
  }
  interface FastifyRequest {
    principal?: Principal;
  }
}

export function hashKey(key: string): string {
  return createHash("sha256").update(key).digest("hex");
}

/** Every key Flotilla makes starts so; only such keys are worth a database read when not held in memory. */
const KEY_PREFIX = "flt_";

export function generateKey(): string {
  return `${KEY_PREFIX}${randomBytes(24).toString("base64url")}`;
}

/** A key not found is not looked up again for this long (a key made on another replica is found after it). */
const MISS_TTL_MS = 5_000;
const MISSES_MAX = 10_000;

/**
 * The hashes of valid keys, held in memory so no request waits on the
 * database. A key it does not hold (made on another replica) is read once;
 * the gateway reloads it now and then, so revocations elsewhere reach it.
 */
export class Keyring {
  private readonly byHash = new Map<string, KeyRecord>();
  private readonly byId = new Map<string, KeyRecord>();
  private readonly misses = new Map<string, number>();
  /** Key ids used since the last drain, for a batched last_used_at update. */
  readonly used = new Set<string>();

  constructor(
    private readonly find?: (hash: string) => Promise<KeyRecord | undefined>,
    private readonly findById?: (id: string) => Promise<KeyRecord | undefined>,
  ) {}

  /** The gateway's own keys, never stored (the queue's runner): kept across reloads. */
  private readonly internal = new Map<string, KeyRecord>();

  load(records: KeyRecord[]): void {
    this.byHash.clear();
    this.byId.clear();
    this.misses.clear();
    for (const r of [...records, ...this.internal.values()]) this.hold(r);
  }

  /** A key the gateway gives itself for in-process calls; it lives as long as the process. */
  addInternal(record: KeyRecord): void {
    this.internal.set(record.hash, record);
    this.hold(record);
  }

  add(record: KeyRecord): void {
    this.hold(record);
    this.misses.delete(record.hash);
  }

  private hold(record: KeyRecord): void {
    this.byHash.set(record.hash, record);
    this.byId.set(record.id, record);
  }

  /** The key that queued a task, as the principal its run acts as; undefined once it is revoked or expired. */
  forTask(keyId: string): Principal | undefined | Promise<Principal | undefined> {
    const asTask = (record: KeyRecord | undefined) => {
      const principal = record && this.principal(record);
      if (principal) principal.forTask = true;
      return principal;
    };
    const held = this.byId.get(keyId);
    if (held || !this.findById) return asTask(held);
    return this.findById(keyId).then((found) => {
      if (found) this.add(found);
      return asTask(found);
    });
  }

  /** A user's keys stop working at once (the user was deleted). */
  revokeUser(userId: string, at = Date.now()): void {
    for (const record of this.byHash.values()) if (record.user_id === userId && record.revoked_at === null) record.revoked_at = at;
  }

  /** A user's keys carry the user's role. */
  setUserRole(userId: string, role: Role): void {
    for (const record of this.byHash.values()) if (record.user_id === userId) record.role = role;
  }

  verify(token: string): Principal | undefined | Promise<Principal | undefined> {
    const hash = hashKey(token);
    const record = this.byHash.get(hash);
    if (record) return sameHash(record.hash, hash) ? this.principal(record) : undefined;
    const now = Date.now();
    if (!this.find || !token.startsWith(KEY_PREFIX) || now - (this.misses.get(hash) ?? 0) < MISS_TTL_MS) return undefined;
    return this.find(hash).then((found) => {
      if (found) {
        this.add(found);
        return this.principal(found);
      }
      if (this.misses.size >= MISSES_MAX) this.misses.clear();
      this.misses.set(hash, now);
      return undefined;
    });
  }

  private principal(record: KeyRecord): Principal | undefined {
    if (record.revoked_at !== null || (record.expires_at !== null && record.expires_at <= Date.now())) return undefined;
    this.used.add(record.id);
    const principal: Principal = { via: "key", keyId: record.id, role: record.role, scopes: record.scopes };
    if (record.user_id !== null) principal.userId = record.user_id;
    if (record.daily_token_budget !== null) principal.dailyTokenBudget = record.daily_token_budget;
    return principal;
  }

  /** Revokes one key at once; false when it is not held. */
  revoke(id: string, at = Date.now()): boolean {
    const record = this.byId.get(id);
    if (record) record.revoked_at ??= at;
    return record !== undefined;
  }
}

function sameHash(a: string, b: string): boolean {
  return a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));
}

/** What credentials are read from: a Fastify request, or a raw one (a WebSocket upgrade). */
type WithHeaders = Pick<FastifyRequest, "headers">;

/** `Authorization: Bearer K`, or seed 004's `X-Ollama-Api-Key: K`. */
export function presentedKey(req: WithHeaders): string | undefined {
  const header = req.headers.authorization;
  if (header && header.length > 7 && header.slice(0, 7).toLowerCase() === "bearer ") return header.slice(7).trim();
  const alt = req.headers["x-ollama-api-key"];
  return typeof alt === "string" && alt ? alt : undefined;
}

const SWAGGER_UI_PREFIX = "/api/client";

type Guarded = Exclude<AuthLevel, "public">;

const MISSING: Record<Guarded, string> = {
  inference: "an API key is required: send Authorization: Bearer <key>",
  user: "sign in or send an API key",
  member: "sign in or send an API key",
  owner: "sign in or send an API key",
  admin: "an API key is required: send Authorization: Bearer <key>",
};

function hasScope(principal: Principal, scope: Scope): boolean {
  return principal.scopes === undefined || principal.scopes.includes(scope);
}

/** Whether `principal` may call a route of `level` (an owner route's resource is checked after). */
function allowed(level: Guarded, principal: Principal | undefined, proxyMode: "key" | "open"): boolean {
  switch (level) {
    case "inference":
      return (principal !== undefined && hasScope(principal, "inference")) || proxyMode === "open";
    case "user":
    case "owner":
      return principal !== undefined;
    case "member":
      return principal !== undefined && principal.role !== "guest";
    case "admin":
      return principal?.role === "admin" && hasScope(principal, "admin");
  }
}

function refusal(level: Guarded, presented: boolean, principal: Principal | undefined): FlotillaError {
  if (!presented) return new FlotillaError("unauthorized", MISSING[level]);
  if (!principal) return new FlotillaError("unauthorized", "the API key, token or session is not valid");
  if (level === "member") return new FlotillaError("forbidden", "guests cannot do this: upgrade to a permanent account first (POST /auth/upgrade)");
  if (level === "inference") return new FlotillaError("forbidden", "this API key lacks the inference scope");
  return new FlotillaError("forbidden", principal.role === "admin" ? "this API key lacks the admin scope" : "this endpoint needs an admin");
}

/** The principal behind the request's credentials: a bearer API key or access token, else the session cookie. */
function identify(req: WithHeaders, keyring: Keyring, credentials: CredentialResolver | undefined, token = presentedKey(req)): { presented: boolean; principal: Maybe<Principal> } {
  if (token !== undefined) {
    const found = credentials?.isAccessToken(token) ? credentials.accessToken(token) : keyring.verify(token);
    // Only the gateway's own runner key may act for another key (the one that queued the task it runs).
    const forKey = req.headers[TASK_KEY_HEADER];
    if (typeof forKey === "string" && !(found instanceof Promise) && found?.keyId === TASK_RUNNER_KEY_ID) return { presented: true, principal: keyring.forTask(forKey) };
    return { presented: true, principal: found };
  }
  const cookie = credentials?.cookieToken(req);
  if (cookie === undefined || !credentials) return { presented: false, principal: undefined };
  return { presented: true, principal: credentials.session(cookie) };
}

/**
 * Sets req.principal and returns the error that refuses the request, if any.
 * Synchronous unless a session must be read or an owner looked up.
 */
function authorize(
  req: FastifyRequest,
  keyring: Keyring,
  proxyMode: "key" | "open",
  credentials: CredentialResolver | undefined,
): FlotillaError | undefined | Promise<FlotillaError | undefined> {
  const config = req.routeOptions.config;
  const level = config.auth ?? "public";
  if (level === "public") {
    if (!config.identify) return undefined;
    const { principal } = identify(req, keyring, credentials);
    const keep = (found: Principal | undefined) => {
      if (found) req.principal = found;
      return undefined;
    };
    return principal instanceof Promise ? principal.then(keep) : keep(principal);
  }
  const { presented, principal } = identify(req, keyring, credentials);
  const settle = (found: Principal | undefined): FlotillaError | undefined | Promise<FlotillaError | undefined> => {
    if (found) req.principal = found;
    if (!allowed(level, found, proxyMode)) return refusal(level, presented, found);
    if (level !== "owner" || found?.role === "admin") return undefined;
    // Another user's resource answers as a missing one: its existence is not theirs to learn.
    return (config.owner as OwnerOf)(req).then((owner) => (owner !== undefined && owner !== null && owner === found?.userId ? undefined : new FlotillaError("not_found", "not found")));
  };
  return principal instanceof Promise ? principal.then(settle) : settle(principal);
}

/**
 * Who a raw request (a WebSocket upgrade, which Fastify never sees) is, and
 * whether they may call a route of `level`. A browser cannot set headers on
 * a WebSocket, so `?key=` stands in for the bearer there.
 */
export async function authorizeUpgrade(
  req: WithHeaders & { url?: string },
  level: Exclude<Guarded, "owner">,
  keyring: Keyring,
  credentials: CredentialResolver | undefined,
): Promise<Principal | FlotillaError> {
  const fromQuery = new URL(req.url ?? "/", "http://upgrade").searchParams.get("key") ?? undefined;
  const { presented, principal } = identify(req, keyring, credentials, presentedKey(req) ?? fromQuery);
  const found = await principal;
  return allowed(level, found, "key") && found ? found : refusal(level, presented, found);
}

export function registerAuth(app: FastifyInstance, keyring: Keyring, proxyMode: "key" | "open", credentials?: CredentialResolver): void {
  app.addHook("onRoute", (route) => {
    const config = (route.config ?? {}) as { auth?: AuthLevel; owner?: OwnerOf };
    if (config.auth === "owner" && typeof config.owner !== "function") throw new Error(`route ${route.method} ${route.url} is owner-only but says not whose its resource is`);
    if (config.auth) return;
    if (route.url.startsWith(SWAGGER_UI_PREFIX)) {
      route.config = { ...config, auth: "public" };
      return;
    }
    throw new Error(`route ${route.method} ${route.url} declares no auth level`);
  });

  // A callback hook, not an async one: it runs on every request and rarely needs to wait.
  app.addHook("onRequest", function authenticate(req, _reply, done) {
    const result = authorize(req, keyring, proxyMode, credentials);
    if (result instanceof Promise) result.then(done, done);
    else done(result);
  });
}

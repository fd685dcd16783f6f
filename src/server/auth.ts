import type { FastifyInstance, FastifyRequest } from "fastify";
import type { Keyring } from "../accounts/index.js";
import { presentedKey } from "../kernel/credentials.js";
import { FlotillaError } from "../kernel/errors.js";
import { TASK_KEY_HEADER, TASK_RUNNER_KEY_ID, type AuthLevel, type CredentialResolver, type Maybe, type OwnerOf, type Principal, type Scope, type WithHeaders } from "../kernel/principal.js";

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
    if (found?.role === "guest" && config.guests === false) return refusal("member", presented, found);
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

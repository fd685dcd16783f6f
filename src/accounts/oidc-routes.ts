import { randomBytes } from "node:crypto";
import { Type, type Static } from "@sinclair/typebox";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { FlotillaError } from "../kernel/index.js";
import type { UserRow } from "../store/index.js";
import type { OidcIdentity, OidcLogin } from "./oidc.js";
import type { Accounts } from "./service.js";
import { cookieValue, setCookie } from "./sessions.js";
import { newUser, userView, UserView } from "./users.js";

const FLOW_COOKIE = "flotilla_oidc";
const FLOW_COOKIE_PATH = "/auth";
const USERNAME_MAX = 64;

const LoginQuery = Type.Object({ redirect_url: Type.Optional(Type.String({ minLength: 1, maxLength: 2048 })) });
const CallbackQuery = Type.Object({
  code: Type.Optional(Type.String()),
  state: Type.Optional(Type.String()),
  error: Type.Optional(Type.String()),
  error_description: Type.Optional(Type.String()),
});
const LoginStarted = Type.Object({ authorization_url: Type.String(), state: Type.String() });
const SignedIn = Type.Object({
  access_token: Type.String(),
  refresh_token: Type.String(),
  token_type: Type.Literal("Bearer"),
  expires_in: Type.Integer(),
  expires_at: Type.String(),
  user: UserView,
});

/** Where a login may send the browser afterwards: a path on this gateway, or a configured origin. */
function checkedRedirect(target: string | undefined, allowedOrigins: readonly string[]): string | undefined {
  if (target === undefined) return undefined;
  if (target.startsWith("/") && !target.startsWith("//") && !target.startsWith("/\\")) return target;
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    throw new FlotillaError("invalid_request", "redirect_url must be a path on this gateway or an absolute URL", { param: "redirect_url" });
  }
  if (!allowedOrigins.some((origin) => new URL(origin).origin === url.origin)) {
    throw new FlotillaError("invalid_request", `redirect_url's origin ${url.origin} is not in auth.oidc.allowed_redirect_origins`, { param: "redirect_url" });
  }
  return url.toString();
}

/** A free username made from what the provider says of the user. */
async function freeUsername(accounts: Accounts, identity: OidcIdentity): Promise<string> {
  const wanted = identity.preferredUsername ?? identity.email ?? `oidc-${identity.subject}`;
  const base = wanted.replace(/[^A-Za-z0-9._@+-]/g, "-").slice(0, USERNAME_MAX - 9) || "oidc-user";
  for (let candidate = base; ; candidate = `${base}-${randomBytes(4).toString("hex")}`) {
    if (!(await accounts.store.users.findByUsername(candidate))) return candidate;
  }
}

/**
 * The user an identity signs in: the one it is linked to; else the signed-in
 * user who started the login (a guest becomes a permanent user, keeping their
 * data); else a new user. Emails are never matched: an unlinked identity never
 * takes over an existing account.
 */
async function userFor(accounts: Accounts, identity: OidcIdentity, linkUserId: string | undefined): Promise<UserRow> {
  const { store } = accounts;
  const linked = await store.users.findByIdentity(identity.issuer, identity.subject);
  if (linked) return linked;
  const link = { issuer: identity.issuer, subject: identity.subject, email: identity.email ?? null, created_at: Date.now() };
  const current = linkUserId ? await store.users.get(linkUserId) : undefined;
  if (current) {
    await store.users.linkIdentity({ ...link, user_id: current.id });
    if (current.role !== "guest") return current;
    const upgraded = await store.users.update(
      current.id,
      { role: "user", username: await freeUsername(accounts, identity), email: identity.email ?? current.email, display_name: identity.name ?? current.display_name },
      Date.now(),
    );
    accounts.sessions.forgetUser(current.id);
    return upgraded as UserRow;
  }
  const user = newUser(await freeUsername(accounts, identity), "user", null, { displayName: identity.name, email: identity.email });
  await store.users.insert(user);
  await store.users.linkIdentity({ ...link, user_id: user.id });
  return user;
}

function notConfigured(): never {
  throw new FlotillaError("not_found", "OIDC login is not configured on this gateway (auth.oidc)");
}

/** Seed 002's OAuth login: `GET /auth/login` sends the browser to the provider, `GET /auth/callback` signs the user in. */
export function registerOidcRoutes(app: FastifyInstance, accounts: Accounts): void {
  const tags = ["auth"];
  const oidc = (): OidcLogin => accounts.oidc ?? notConfigured();

  app.get(
    "/auth/login",
    {
      schema: {
        summary: "Start OIDC login: redirects to the provider (JSON with authorization_url when asked for JSON)",
        tags,
        querystring: LoginQuery,
        response: { 200: LoginStarted },
      },
      // A guest who is signed in and logs in links the identity to their account.
      config: { auth: "public", identify: true },
    },
    async function oidcLogin(req, reply) {
      const login = oidc();
      const { redirect_url } = req.query as Static<typeof LoginQuery>;
      const redirect = checkedRedirect(redirect_url, login.settings.allowed_redirect_origins);
      const started = await login.start(redirect, req.principal?.userId);
      void reply.header("set-cookie", setCookie(req, FLOW_COOKIE, started.sealed, 10 * 60_000, FLOW_COOKIE_PATH));
      if ((req.headers.accept ?? "").includes("application/json")) return { authorization_url: started.url.toString(), state: started.state };
      return reply.redirect(started.url.toString(), 302);
    },
  );

  app.get(
    "/auth/callback",
    {
      schema: {
        summary: "The provider's redirect back: signs the user in (session cookie and tokens), then redirects or answers JSON",
        tags,
        querystring: CallbackQuery,
        response: { 200: SignedIn },
      },
      config: { auth: "public" },
    },
    async function oidcCallback(req: FastifyRequest, reply: FastifyReply) {
      const login = oidc();
      const query = req.query as Static<typeof CallbackQuery>;
      const flow = login.open(cookieValue(req.headers.cookie, FLOW_COOKIE));
      void reply.header("set-cookie", `${FLOW_COOKIE}=; HttpOnly; SameSite=Lax; Path=${FLOW_COOKIE_PATH}; Max-Age=0`);
      if (!flow) throw new FlotillaError("invalid_request", "no login is under way in this browser, or it took over 10 minutes: start again at /auth/login");
      if (query.error) throw new FlotillaError("invalid_credentials", `the OIDC provider refused the login: ${query.error}${query.error_description ? ` (${query.error_description})` : ""}`);
      if (query.state !== flow.state) throw new FlotillaError("invalid_request", "the state does not match the login this browser started", { param: "state" });
      const search = req.url.slice(req.url.indexOf("?"));
      const identity = await login.finish(flow, search);
      const user = await accounts.startCookieSession(req, reply, await userFor(accounts, identity, flow.linkUserId));
      const tokens = await accounts.startTokenSession(user);
      if (!flow.redirect) return { ...tokens, user: userView(user) };
      const fragment = new URLSearchParams({ access_token: tokens.access_token, refresh_token: tokens.refresh_token, expires_in: String(tokens.expires_in), token_type: tokens.token_type });
      return reply.redirect(`${flow.redirect.split("#")[0]}#${fragment.toString()}`, 302);
    },
  );
}

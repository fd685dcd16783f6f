import { randomBytes } from "node:crypto";
import { Type, type Static } from "@sinclair/typebox";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { bodyMayBeOmitted, FlotillaError, presentedKey, type Principal } from "../kernel/index.js";
import type { UserRow } from "../store/index.js";
import { hashPassword } from "./passwords.js";
import { looksLikeJwt } from "./access-tokens.js";
import type { Accounts } from "./service.js";
import { cookieValue, SESSION_COOKIE, sessionToken } from "./sessions.js";
import { NewPassword, newUser, Username, userView, UserView } from "./users.js";

const REFRESH_COOKIE = "refresh_token";

const TokenPairView = Type.Object({
  access_token: Type.String(),
  refresh_token: Type.String(),
  token_type: Type.Literal("Bearer"),
  expires_in: Type.Integer({ description: "seconds the access token is good for" }),
  expires_at: Type.String(),
});
const GuestTokens = Type.Object({ ...TokenPairView.properties, user_id: Type.String(), username: Type.String(), principal_id: Type.String() });
const RefreshBody = Type.Object({ refresh_token: Type.Optional(Type.String({ minLength: 1 })) });
const UpgradeBody = Type.Object(
  {
    username: Type.Optional(Username),
    email: Type.Optional(Type.String({ maxLength: 254, pattern: "^[^@\\s]+@[^@\\s]+$" })),
    full_name: Type.Optional(Type.String({ maxLength: 128 })),
    password: Type.Optional(NewPassword),
  },
  { additionalProperties: false },
);
export const IdentityView = Type.Object({
  id: Type.Union([Type.String(), Type.Null()]),
  username: Type.Union([Type.String(), Type.Null()]),
  email: Type.Union([Type.String(), Type.Null()]),
  name: Type.Union([Type.String(), Type.Null()]),
  subject: Type.String(),
  auth_method: Type.Union(["guest", "session", "token", "api_key"].map((m) => Type.Literal(m))),
  roles: Type.Array(Type.String()),
  is_admin: Type.Boolean(),
  user: Type.Union([UserView, Type.Null()]),
});

/** Seed 002's refresh token: from the JSON body, else the `refresh_token` cookie, else `Authorization: Bearer`. */
function presentedRefreshToken(req: FastifyRequest): string | undefined {
  const body = req.body as Static<typeof RefreshBody> | undefined;
  return body?.refresh_token ?? cookieValue(req.headers.cookie, REFRESH_COOKIE) ?? presentedKey(req);
}

function clearCookies(reply: FastifyReply): void {
  void reply.header("set-cookie", [
    `${REFRESH_COOKIE}=; HttpOnly; SameSite=Lax; Path=/; Max-Age=0`,
    `${SESSION_COOKIE}=; HttpOnly; SameSite=Lax; Path=/; Max-Age=0`,
  ]);
}

/** `/auth/me` and `/v1/users/me`: who the caller is, whatever they signed in with. */
export function identityView(principal: Principal, user: UserRow | undefined): Static<typeof IdentityView> {
  const method = principal.via === "key" ? "api_key" : user?.role === "guest" ? "guest" : principal.via;
  return {
    id: user?.id ?? null,
    username: user?.username ?? null,
    email: user?.email ?? null,
    name: user ? (user.display_name ?? user.username) : null,
    subject: user?.id ?? `key:${principal.keyId ?? "unknown"}`,
    auth_method: method,
    roles: [principal.role],
    is_admin: principal.role === "admin",
    user: user ? userView(user) : null,
  };
}

/** Seed 002's token flow: guest accounts, access + rotating refresh tokens, revoke, logout, upgrade, and who-am-I. */
export function registerTokenRoutes(app: FastifyInstance, accounts: Accounts): void {
  const { store, sessions } = accounts;
  const tags = ["auth"];

  app.post(
    "/auth/guest-login",
    { schema: { summary: "A guest account and its tokens, without credentials", tags, response: { 201: GuestTokens } }, config: { auth: "public" } },
    async function guestLogin(_req, reply) {
      if (!accounts.config.auth.guests) throw new FlotillaError("forbidden", "guest accounts are turned off on this gateway");
      const user = newUser(`guest-${randomBytes(8).toString("hex")}`, "guest", null);
      await store.users.insert(user);
      const tokens = await accounts.startTokenSession(user);
      return reply.code(201).send({ ...tokens, user_id: user.id, username: user.username, principal_id: user.id });
    },
  );

  const refresh = async function refreshToken(req: FastifyRequest) {
    const token = presentedRefreshToken(req);
    if (!token) throw new FlotillaError("invalid_request", "refresh_token required", { param: "refresh_token" });
    const outcome = await sessions.refresh(token);
    if (outcome.kind === "reused") throw new FlotillaError("invalid_token", "this refresh token was used already: its session is ended, sign in again");
    if (outcome.kind === "invalid") throw new FlotillaError("invalid_token", "the refresh token is not valid or has expired");
    return accounts.pair(outcome.userId, outcome.sessionId, outcome.token);
  };
  // Public: the refresh token is the credential. Seed 002 says POST; Jan's own server answers GET too.
  const refreshSchema = { summary: "Exchange a refresh token for new tokens (the old one is spent)", tags, body: RefreshBody, response: { 200: TokenPairView } };
  app.post("/auth/refresh-token", { schema: refreshSchema, preValidation: bodyMayBeOmitted, config: { auth: "public" } }, refresh);
  app.get("/auth/refresh-token", { schema: { ...refreshSchema, body: undefined }, config: { auth: "public" } }, refresh);

  /** Ends the session a refresh token or access token belongs to, if any. */
  const endPresented = async (req: FastifyRequest): Promise<void> => {
    const token = presentedRefreshToken(req);
    if (token && looksLikeJwt(token)) {
      const claims = accounts.tokens.verify(token);
      if (claims) await sessions.endSession(claims.sid);
    } else if (token) await sessions.endByToken(token);
  };

  app.post(
    "/auth/revoke",
    {
      schema: { summary: "Revoke a refresh token (or the session of the access token sent) and its session", tags, body: RefreshBody, response: { 200: Type.Object({ message: Type.String() }) } },
      preValidation: bodyMayBeOmitted,
      config: { auth: "public" },
    },
    async function revoke(req) {
      if (!presentedRefreshToken(req)) throw new FlotillaError("invalid_request", "refresh_token required", { param: "refresh_token" });
      // As RFC 7009 has it: an unknown token answers the same, so the answer tells nothing.
      await endPresented(req);
      return { message: "Token revoked successfully" };
    },
  );

  app.get(
    "/auth/logout",
    { schema: { summary: "Log out: ends the token session and the dashboard session sent, clears their cookies", tags, response: { 200: Type.Object({ status: Type.String() }) } }, config: { auth: "public" } },
    async function logout(req, reply) {
      await endPresented(req);
      const cookie = sessionToken(req.headers.cookie);
      if (cookie) await sessions.endByToken(cookie);
      clearCookies(reply);
      return { status: "logged out" };
    },
  );

  app.post(
    "/auth/upgrade",
    { schema: { summary: "Make a guest a permanent user, keeping their id and data", tags, body: UpgradeBody, response: { 200: Type.Object({ status: Type.String(), user: UserView }) } }, config: { auth: "user" } },
    async function upgrade(req) {
      const principal = req.principal as Principal;
      const user = principal.userId ? await store.users.get(principal.userId) : undefined;
      if (!user || user.role !== "guest") throw new FlotillaError("conflict", "only a guest account can be upgraded");
      const body = req.body as Static<typeof UpgradeBody>;
      if (body.username && body.username !== user.username && (await store.users.findByUsername(body.username))) {
        throw new FlotillaError("conflict", `the username "${body.username}" is taken`, { param: "username" });
      }
      const updated = await store.users.update(
        user.id,
        {
          role: "user",
          ...(body.username ? { username: body.username } : {}),
          ...(body.email ? { email: body.email } : {}),
          ...(body.full_name ? { display_name: body.full_name } : {}),
          ...(body.password ? { password_hash: await hashPassword(body.password) } : {}),
        },
        Date.now(),
      );
      sessions.forgetUser(user.id);
      return { status: "upgraded", user: userView(updated as UserRow) };
    },
  );

  const me = async function me(req: FastifyRequest) {
    const principal = req.principal as Principal;
    return identityView(principal, principal.userId ? await store.users.get(principal.userId) : undefined);
  };
  app.get("/auth/me", { schema: { summary: "The signed-in user", tags, response: { 200: IdentityView } }, config: { auth: "user" } }, me);
  app.get("/v1/users/me", { schema: { summary: "The signed-in user", tags: ["users"], response: { 200: IdentityView } }, config: { auth: "user" } }, me);
}

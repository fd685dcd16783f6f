import { setTimeout as sleep } from "node:timers/promises";
import { Type, type Static } from "@sinclair/typebox";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { keyRecord, newKeyRow } from "./admin-key.js";
import { bodyMayBeOmitted, FlotillaError, generateKey, isoTime } from "../kernel/index.js";
import type { UserRow } from "../store/index.js";
import { LoginThrottle } from "./login-throttle.js";
import { hashPassword, verifyPassword } from "./passwords.js";
import type { Accounts } from "./service.js";
import { SESSION_COOKIE, sessionToken } from "./sessions.js";
import { keyRole, newUser, NewPassword, Role, Username, userView, UserView } from "./users.js";


const SetupBody = Type.Object({ username: Username, password: NewPassword, display_name: Type.Optional(Type.String({ maxLength: 128 })) }, { additionalProperties: false });
const NewUser = Type.Object(
  { username: Username, password: Type.Optional(NewPassword), display_name: Type.Optional(Type.String({ maxLength: 128 })), role: Type.Optional(Role) },
  { additionalProperties: false },
);
const LoginBody = Type.Object({ username: Type.String({ minLength: 1, maxLength: 64 }), password: Type.String({ minLength: 1, maxLength: 256 }) }, { additionalProperties: false });
const UserChanges = Type.Object(
  { display_name: Type.Optional(Type.Union([Type.String({ maxLength: 128 }), Type.Null()])), role: Type.Optional(Role), password: Type.Optional(NewPassword) },
  { additionalProperties: false },
);
const KeyRequest = Type.Object({ name: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })) }, { additionalProperties: false });
const IdParams = Type.Object({ id: Type.String({ minLength: 1 }) });

const MeView = Type.Object({ user: Type.Union([UserView, Type.Null()]), role: Role, via: Type.Union([Type.Literal("session"), Type.Literal("key")]) });
const CreatedKey = Type.Object({ id: Type.String(), key: Type.String(), prefix: Type.String(), name: Type.String(), user_id: Type.String(), created_at: Type.String() });

/** Seed 004's dashboard accounts: first-run setup, login with a session cookie, and user management. */
export function registerAccountRoutes(app: FastifyInstance, accounts: Accounts): void {
  const { store, keyring, sessions } = accounts;
  const throttle = new LoginThrottle();
  const tags = ["accounts"];

  const signIn = async (req: FastifyRequest, reply: FastifyReply, user: UserRow) => userView(await accounts.startCookieSession(req, reply, user));

  const findUser = async (id: string) => {
    const user = await store.users.get(id);
    if (!user) throw new FlotillaError("user_not_found", `no user with id "${id}"`);
    return user;
  };

  app.get(
    "/api/auth/setup",
    { schema: { summary: "Whether first-run setup is still open (no account but guests exists yet)", tags, response: { 200: Type.Object({ required: Type.Boolean() }) } }, config: { auth: "public" } },
    async function setupStatus() {
      // As setup itself: guests do not count.
      return { required: !(await store.users.hasAccount()) };
    },
  );

  app.post(
    "/api/auth/setup",
    { schema: { summary: "Create the first admin (only while no user exists)", tags, body: SetupBody, response: { 201: Type.Object({ user: UserView }) } }, config: { auth: "public" } },
    async function setup(req, reply) {
      const body = req.body as Static<typeof SetupBody>;
      const user = newUser(body.username, "admin", await hashPassword(body.password), { displayName: body.display_name });
      if (!(await store.users.insertFirst(user))) throw new FlotillaError("conflict", "setup is done: an admin exists, log in instead");
      return reply.code(201).send({ user: await signIn(req, reply, user) });
    },
  );

  app.post(
    "/api/users",
    { schema: { summary: "Create a user (admin); without a password they sign in by key or OIDC only", tags, body: NewUser, response: { 201: Type.Object({ user: UserView }) } }, config: { auth: "admin" } },
    async function createUser(req, reply) {
      const body = req.body as Static<typeof NewUser>;
      if (await store.users.findByUsername(body.username)) throw new FlotillaError("conflict", `the username "${body.username}" is taken`);
      const user = newUser(body.username, body.role ?? "user", body.password ? await hashPassword(body.password) : null, { displayName: body.display_name });
      await store.users.insert(user);
      return reply.code(201).send({ user: userView(user) });
    },
  );

  app.post(
    "/api/auth/login",
    { schema: { summary: "Log in; sets the session cookie", tags, body: LoginBody, response: { 200: Type.Object({ user: UserView }) } }, config: { auth: "public" } },
    async function login(req, reply) {
      const { username, password } = req.body as Static<typeof LoginBody>;
      const name = username.toLowerCase();
      const { refuseMs, delayMs } = throttle.check(name, req.ip);
      if (refuseMs > 0) {
        const seconds = Math.ceil(refuseMs / 1000);
        throw new FlotillaError("rate_limited", `too many failed logins from this address: try again in ${seconds} s`, { headers: { "retry-after": String(seconds) } });
      }
      if (delayMs > 0) await sleep(delayMs);
      const user = await store.users.findByUsername(username);
      // A missing user costs a hash too, so timing does not tell which usernames exist.
      const ok = user?.password_hash ? await verifyPassword(password, user.password_hash) : await hashPassword(password).then(() => false);
      if (!user || !ok) {
        throttle.failed(name, req.ip);
        throw new FlotillaError("invalid_credentials", "wrong username or password");
      }
      throttle.succeeded(name, req.ip);
      return { user: await signIn(req, reply, user) };
    },
  );

  app.post(
    "/api/auth/logout",
    { schema: { summary: "Log out: ends the session and clears the cookie", tags }, config: { auth: "public" } },
    async function logout(req, reply) {
      const token = sessionToken(req.headers.cookie);
      if (token) await sessions.endByToken(token);
      void reply.header("set-cookie", `${SESSION_COOKIE}=; HttpOnly; SameSite=Lax; Path=/; Max-Age=0`);
      return reply.code(204).send();
    },
  );

  app.get(
    "/api/auth/me",
    { schema: { summary: "Who is signed in (session or API key)", tags, response: { 200: MeView } }, config: { auth: "user" } },
    async function me(req) {
      const principal = req.principal as NonNullable<FastifyRequest["principal"]>;
      const user = principal.userId ? await store.users.get(principal.userId) : undefined;
      return { user: user ? userView(user) : null, role: principal.role, via: principal.via === "key" ? "key" : "session" };
    },
  );

  app.get(
    "/api/users",
    { schema: { summary: "Every user (admin)", tags, response: { 200: Type.Object({ users: Type.Array(UserView) }) } }, config: { auth: "admin" } },
    async function listUsers() {
      return { users: (await store.users.list()).map(userView) };
    },
  );

  app.put(
    "/api/users/:id",
    { schema: { summary: "Change a user's name, role or password (admin)", tags, params: IdParams, body: UserChanges, response: { 200: Type.Object({ user: UserView }) } }, config: { auth: "admin" } },
    async function updateUser(req) {
      const { id } = req.params as { id: string };
      const changes = req.body as Static<typeof UserChanges>;
      const current = await findUser(id);
      if (changes.role && changes.role !== "admin" && current.role === "admin" && req.principal?.userId === id) {
        throw new FlotillaError("conflict", "you cannot take away your own admin role");
      }
      const updated = await store.users.update(
        id,
        {
          ...(changes.display_name !== undefined ? { display_name: changes.display_name } : {}),
          ...(changes.role ? { role: changes.role } : {}),
          ...(changes.password ? { password_hash: await hashPassword(changes.password) } : {}),
        },
        Date.now(),
      );
      if (changes.role && changes.role !== current.role) {
        await store.apiKeys.setRoleForUser(id, keyRole(changes.role));
        keyring.setUserRole(id, keyRole(changes.role));
      }
      // A new password or role ends the user's other sessions' cached view; a new password ends the sessions.
      if (changes.password) await store.sessions.removeForUser(id);
      sessions.forgetUser(id);
      return { user: userView(updated as UserRow) };
    },
  );

  app.delete(
    "/api/users/:id",
    { schema: { summary: "Delete a user, their sessions and keys (admin)", tags, params: IdParams }, config: { auth: "admin" } },
    async function deleteUser(req, reply) {
      const { id } = req.params as { id: string };
      if (req.principal?.userId === id) throw new FlotillaError("conflict", "you cannot delete your own account");
      await findUser(id);
      await store.users.remove(id);
      keyring.revokeUser(id);
      sessions.forgetUser(id);
      return reply.code(204).send();
    },
  );

  app.post(
    "/api/users/:id/api-key",
    { schema: { summary: "Make an API key for a user (shown once) (admin)", tags, params: IdParams, body: KeyRequest, response: { 201: CreatedKey } }, preValidation: bodyMayBeOmitted, config: { auth: "admin" } },
    async function createUserKey(req, reply) {
      const { id } = req.params as { id: string };
      const user = await findUser(id);
      const key = generateKey();
      const now = Date.now();
      const name = (req.body as Static<typeof KeyRequest>).name ?? `${user.username} key`;
      // Both scopes: the key acts with its user's role as it changes (seed 004's key for proxy attribution).
      const row = newKeyRow(key, { name, role: keyRole(user.role), userId: user.id, now, scopes: ["inference", "admin"] });
      await store.apiKeys.insert(row);
      keyring.add(keyRecord(row));
      return reply.code(201).send({ id: row.id, key, prefix: row.prefix, name: row.name, user_id: user.id, created_at: isoTime(now) });
    },
  );
}

import { Type, type Static } from "@sinclair/typebox";
import type { FastifyInstance } from "fastify";
import { keyRecord, keyScopes, newKeyRow } from "./admin-key.js";
import { FlotillaError, generateKey, isoTime, isoTimeOrNull, type Principal } from "../kernel/index.js";
import type { ApiKeyRow } from "../store/index.js";
import type { Accounts } from "./service.js";
import { keyRole } from "./users.js";

const ScopeName = Type.Union([Type.Literal("inference"), Type.Literal("admin")]);
const NewKey = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 128 }),
    /** seconds from now; absent: the key does not expire */
    expires_in: Type.Optional(Type.Integer({ minimum: 1, maximum: 10 * 366 * 86_400 })),
    scopes: Type.Optional(Type.Array(ScopeName, { minItems: 1, uniqueItems: true })),
    daily_token_budget: Type.Optional(Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER })),
  },
  { additionalProperties: false },
);
const Time = Type.Union([Type.String(), Type.Null()]);
const KeyView = Type.Object({
  id: Type.String(),
  name: Type.String(),
  prefix: Type.String({ description: "the key's first characters, to recognise it by" }),
  scopes: Type.Array(ScopeName),
  status: Type.Union([Type.Literal("active"), Type.Literal("expired"), Type.Literal("revoked")]),
  created_at: Type.String(),
  expires_at: Time,
  revoked_at: Time,
  last_used_at: Time,
  daily_token_budget: Type.Union([Type.Integer(), Type.Null()]),
  key: Type.Optional(Type.String({ description: "the key itself: shown once, at creation" })),
});
const IdParams = Type.Object({ id: Type.String({ minLength: 1 }) });


function keyView(row: ApiKeyRow, now = Date.now()): Static<typeof KeyView> {
  const status = row.revoked_at !== null ? "revoked" : row.expires_at !== null && row.expires_at <= now ? "expired" : "active";
  return {
    id: row.id,
    name: row.name,
    prefix: row.prefix,
    scopes: keyScopes(row),
    status,
    created_at: isoTime(row.created_at),
    expires_at: isoTimeOrNull(row.expires_at),
    revoked_at: isoTimeOrNull(row.revoked_at),
    last_used_at: isoTimeOrNull(row.last_used_at),
    daily_token_budget: row.daily_token_budget,
  };
}

/** Seed 002's own API keys: each user lists, makes and revokes theirs. */
export function registerKeyRoutes(app: FastifyInstance, accounts: Accounts): void {
  const { store, keyring } = accounts;
  const tags = ["auth"];

  app.get(
    "/auth/api-keys",
    { schema: { summary: "The caller's API keys (never the keys themselves)", tags, response: { 200: Type.Object({ items: Type.Array(KeyView) }) } }, config: { auth: "member" } },
    async function listKeys(req) {
      return { items: (await store.apiKeys.listForUser((req.principal as Principal).userId ?? "")).map((row) => keyView(row)) };
    },
  );

  app.post(
    "/auth/api-keys",
    { schema: { summary: "Make an API key; the answer is the only time the key is shown", tags, body: NewKey, response: { 201: KeyView } }, config: { auth: "member" } },
    async function createKey(req, reply) {
      const principal = req.principal as Principal;
      const user = principal.userId ? await store.users.get(principal.userId) : undefined;
      if (!user) throw new FlotillaError("invalid_request", "API keys made here belong to a user, and this API key belongs to none");
      const body = req.body as Static<typeof NewKey>;
      const scopes = body.scopes ?? ["inference"];
      if (scopes.includes("admin") && user.role !== "admin") throw new FlotillaError("forbidden", "only an admin can make a key with the admin scope", { param: "scopes" });
      const key = generateKey();
      const now = Date.now();
      const row = newKeyRow(key, {
        name: body.name,
        role: keyRole(user.role),
        userId: user.id,
        now,
        scopes,
        expiresAt: body.expires_in === undefined ? null : now + body.expires_in * 1000,
        dailyTokenBudget: body.daily_token_budget ?? null,
      });
      await store.apiKeys.insert(row);
      keyring.add(keyRecord(row));
      return reply.code(201).send({ ...keyView(row, now), key });
    },
  );

  app.delete(
    "/auth/api-keys/:id",
    {
      schema: { summary: "Revoke one of the caller's API keys; it stops working at once", tags, params: IdParams },
      config: { auth: "owner", owner: async (req) => (await store.apiKeys.get((req.params as { id: string }).id))?.user_id },
    },
    async function revokeKey(req, reply) {
      const { id } = req.params as { id: string };
      if (!(await store.apiKeys.get(id))) throw new FlotillaError("not_found", `no API key with id "${id}"`);
      await store.apiKeys.revoke(id);
      keyring.revoke(id);
      return reply.code(204).send();
    },
  );
}

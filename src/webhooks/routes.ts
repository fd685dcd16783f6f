import { randomUUID } from "node:crypto";
import { Type, type Static } from "@sinclair/typebox";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { FlotillaError, ownerOf, unixSeconds, type OutboundGuard, type Principal } from "../kernel/index.js";
import type { Store, WebhookDeliveryRow, WebhookRow } from "../store/index.js";
import type { WebhookDispatcher } from "./dispatcher.js";

/** The events that fire today; `*` takes all of them. */
export const WEBHOOK_EVENTS = ["response.completed", "response.incomplete", "response.failed", "response.cancelled", "task.completed", "task.failed", "task.cancelled", "task.archived", "webhook.test"] as const;

const tags = ["webhooks"];
const EventName = Type.Union([...WEBHOOK_EVENTS, "*"].map((e) => Type.Literal(e)));
const Events = Type.Array(EventName, { minItems: 1, uniqueItems: true, maxItems: 50 });
const Url = Type.String({ minLength: 1, maxLength: 2048 });
const NewWebhook = Type.Object(
  { url: Url, events: Events, description: Type.Optional(Type.String({ maxLength: 500 })), enabled: Type.Optional(Type.Boolean()) },
  { additionalProperties: false },
);
const WebhookPatch = Type.Object(
  { url: Type.Optional(Url), events: Type.Optional(Events), description: Type.Optional(Type.Union([Type.String({ maxLength: 500 }), Type.Null()])), enabled: Type.Optional(Type.Boolean()) },
  { additionalProperties: false },
);
const WebhookView = Type.Object({
  id: Type.String(),
  object: Type.Literal("webhook"),
  url: Type.String(),
  events: Type.Array(Type.String()),
  description: Type.Union([Type.String(), Type.Null()]),
  enabled: Type.Boolean(),
  created_at: Type.Integer({ description: "Unix seconds" }),
  updated_at: Type.Integer(),
  secret: Type.Optional(Type.String({ description: "whsec_…: shown once, at creation; deliveries are signed with it (Standard Webhooks)" })),
});
const DeliveryView = Type.Object({
  id: Type.String(),
  object: Type.Literal("webhook.delivery"),
  event_id: Type.String(),
  event_type: Type.String(),
  status: Type.Union([Type.Literal("pending"), Type.Literal("delivered"), Type.Literal("failed")]),
  attempts: Type.Integer(),
  last_status: Type.Union([Type.Integer(), Type.Null()]),
  last_error: Type.Union([Type.String(), Type.Null()]),
  next_attempt_at: Type.Union([Type.Integer(), Type.Null()]),
  created_at: Type.Integer(),
  updated_at: Type.Integer(),
});
const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });

function webhookView(row: WebhookRow): Static<typeof WebhookView> {
  return {
    id: row.id,
    object: "webhook",
    url: row.url,
    events: JSON.parse(row.events) as string[],
    description: row.description,
    enabled: row.enabled === 1,
    created_at: unixSeconds(row.created_at),
    updated_at: unixSeconds(row.updated_at),
  };
}

function deliveryView(row: WebhookDeliveryRow): Static<typeof DeliveryView> {
  return {
    id: row.id,
    object: "webhook.delivery",
    event_id: row.event_id,
    event_type: row.event_type,
    status: row.status,
    attempts: row.attempts,
    last_status: row.last_status,
    last_error: row.last_error,
    next_attempt_at: row.next_attempt_at === null ? null : unixSeconds(row.next_attempt_at),
    created_at: unixSeconds(row.created_at),
    updated_at: unixSeconds(row.updated_at),
  };
}

function ownerOrRefuse(principal: Principal | undefined): string {
  const owner = ownerOf(principal);
  if (!owner) throw new FlotillaError("forbidden", "webhooks belong to a user or a key; this caller is neither");
  return owner;
}

/** Seed 002's webhooks: each owner's endpoints, their delivery log, and a test event. */
export function registerWebhookRoutes(app: FastifyInstance, store: Pick<Store, "webhooks">, dispatcher: WebhookDispatcher, outbound: Pick<OutboundGuard, "urlProblem">): void {
  // A user's webhooks are theirs (and admins'); a key with no user is the configured admin key.
  const owned = { auth: "owner" as const, owner: async (req: FastifyRequest) => (await store.webhooks.get((req.params as { id: string }).id))?.owner };
  const find = async (req: FastifyRequest) => {
    const { id } = req.params as { id: string };
    const row = await store.webhooks.get(id);
    if (!row) throw new FlotillaError("not_found", `no webhook with id "${id}"`, { param: "id" });
    return row;
  };
  const checkUrl = async (url: string) => {
    const problem = await outbound.urlProblem(url);
    if (problem) throw new FlotillaError("invalid_request", `the webhook URL is refused: ${problem}`, { param: "url" });
  };

  app.get(
    "/v1/webhooks",
    { schema: { summary: "The caller's webhooks", tags, response: { 200: Type.Object({ object: Type.Literal("list"), data: Type.Array(WebhookView) }) } }, config: { auth: "member" } },
    async function listWebhooks(req) {
      return { object: "list" as const, data: (await store.webhooks.listForOwner(ownerOrRefuse(req.principal))).map(webhookView) };
    },
  );
  app.post(
    "/v1/webhooks",
    { schema: { summary: "Add a webhook; its signing secret is shown once, in the answer", tags, body: NewWebhook, response: { 201: WebhookView } }, config: { auth: "member" } },
    async function createWebhook(req, reply) {
      const body = req.body as Static<typeof NewWebhook>;
      await checkUrl(body.url);
      const now = Date.now();
      const { secret, stored } = dispatcher.newSigningSecret();
      const row: WebhookRow = {
        id: `wh_${randomUUID().replace(/-/g, "")}`,
        owner: ownerOrRefuse(req.principal),
        url: body.url,
        events: JSON.stringify(body.events),
        secret: stored,
        description: body.description ?? null,
        enabled: body.enabled === false ? 0 : 1,
        created_at: now,
        updated_at: now,
      };
      await store.webhooks.insert(row);
      return reply.code(201).send({ ...webhookView(row), secret });
    },
  );
  app.get("/v1/webhooks/:id", { schema: { summary: "One webhook", tags, params: IdParams, response: { 200: WebhookView } }, config: owned }, async function getWebhook(req) {
    return webhookView(await find(req));
  });
  app.patch(
    "/v1/webhooks/:id",
    { schema: { summary: "Change a webhook's URL, events, description or whether it is enabled", tags, params: IdParams, body: WebhookPatch, response: { 200: WebhookView } }, config: owned },
    async function patchWebhook(req) {
      const row = await find(req);
      const body = req.body as Static<typeof WebhookPatch>;
      if (body.url !== undefined) await checkUrl(body.url);
      await store.webhooks.change(row.id, {
        ...(body.url !== undefined ? { url: body.url } : {}),
        ...(body.events !== undefined ? { events: JSON.stringify(body.events) } : {}),
        ...(body.description !== undefined ? { description: body.description } : {}),
        ...(body.enabled !== undefined ? { enabled: body.enabled ? 1 : 0 } : {}),
      });
      return webhookView((await store.webhooks.get(row.id)) as WebhookRow);
    },
  );
  app.delete(
    "/v1/webhooks/:id",
    {
      schema: { summary: "Remove a webhook and its delivery log", tags, params: IdParams, response: { 200: Type.Object({ id: Type.String(), object: Type.Literal("webhook.deleted"), deleted: Type.Boolean() }) } },
      config: owned,
    },
    async function deleteWebhook(req) {
      const row = await find(req);
      await store.webhooks.remove(row.id);
      return { id: row.id, object: "webhook.deleted" as const, deleted: true };
    },
  );
  app.get(
    "/v1/webhooks/:id/deliveries",
    {
      schema: {
        summary: "A webhook's deliveries, newest first: each event's attempts and last outcome",
        tags,
        params: IdParams,
        querystring: Type.Object({ limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }) }),
        response: { 200: Type.Object({ object: Type.Literal("list"), data: Type.Array(DeliveryView) }) },
      },
      config: owned,
    },
    async function listDeliveries(req) {
      const row = await find(req);
      return { object: "list" as const, data: (await store.webhooks.deliveries(row.id, (req.query as { limit: number }).limit)).map(deliveryView) };
    },
  );
  app.post(
    "/v1/webhooks/:id/test",
    { schema: { summary: "Send the webhook a webhook.test event now", tags, params: IdParams }, config: owned },
    async function testWebhook(req, reply) {
      const row = await find(req);
      const event = await dispatcher.emit([{ ...row, enabled: 1, events: JSON.stringify(["webhook.test"]) }], "webhook.test", { id: row.id, object: "webhook" });
      return reply.code(202).send(event);
    },
  );
}

import { randomUUID } from "node:crypto";
import { Type, type Static } from "@sinclair/typebox";
import type { FastifyInstance } from "fastify";
import { FlotillaError, ownerOf, type OutboundGuard, type Principal } from "../kernel/index.js";
import type { NotificationRepo, NotificationSubscriptionRow } from "../store/index.js";
import { NOTIFICATION_EVENTS, type Notifier } from "./notifier.js";
import type { TelegramChannel } from "./notify-channels.js";
import type { TelegramSettings } from "./notify-settings.js";

const MAX_SUBSCRIPTIONS = 100;
const TEST_MESSAGE = "✅ Flotilla: this chat will be told when servers go down and come back.";

const TelegramView = Type.Object({
  hasBotToken: Type.Boolean(),
  botTokenLast4: Type.Union([Type.String(), Type.Null()], { description: "The token itself is never shown" }),
  chatId: Type.Union([Type.String(), Type.Null()]),
  isEnabled: Type.Boolean(),
});
const TelegramChange = Type.Object(
  {
    botToken: Type.Optional(Type.Union([Type.String({ pattern: "^[0-9]{1,20}:[A-Za-z0-9_-]{20,200}$", maxLength: 221, description: "From @BotFather: <bot id>:<secret>; null clears it" }), Type.Null()])),
    chatId: Type.Optional(Type.Union([Type.String({ pattern: "^(-?[0-9]{1,20}|@[A-Za-z0-9_]{5,32})$", maxLength: 33, description: "A chat's number, or @channelname" }), Type.Null()])),
    isEnabled: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
const Subscription = Type.Object(
  {
    server: Type.String({ minLength: 1, maxLength: 128, pattern: "^(\\*|[A-Za-z0-9._:@-]+)$", description: "A server or worker's name; * for every one" }),
    events: Type.Array(Type.Union(NOTIFICATION_EVENTS.map((e) => Type.Literal(e))), { minItems: 1, maxItems: NOTIFICATION_EVENTS.length, uniqueItems: true }),
    channel: Type.String({ minLength: 1, maxLength: 64, description: "telegram (the admin's chat), webhook (url), or a channel a plugin added" }),
    url: Type.Optional(Type.String({ minLength: 1, maxLength: 2048, description: "Where a webhook channel POSTs the notice" })),
  },
  { additionalProperties: false },
);
const SubscriptionView = Type.Object({
  id: Type.String(),
  server: Type.String(),
  events: Type.Array(Type.String()),
  channel: Type.String(),
  url: Type.Union([Type.String(), Type.Null()]),
  createdAt: Type.String({ format: "date-time" }),
});
const SubscriptionsBody = Type.Object({ subscriptions: Type.Array(Subscription, { maxItems: MAX_SUBSCRIPTIONS }) }, { additionalProperties: false });
const SubscriptionsView = Type.Object({
  subscriptions: Type.Array(SubscriptionView),
  channels: Type.Array(Type.String(), { description: "The channels a subscription may name" }),
});

export interface NotificationRoutesDeps {
  notifier: Pick<Notifier, "channel" | "channelNames">;
  telegram: TelegramChannel;
  settings: TelegramSettings;
  repo: Pick<NotificationRepo, "subscriptionsOf" | "replaceSubscriptions">;
  outbound: Pick<OutboundGuard, "urlProblem">;
}

function subscriptionView(row: NotificationSubscriptionRow): Static<typeof SubscriptionView> {
  return { id: row.id, server: row.server, events: JSON.parse(row.events) as string[], channel: row.channel, url: row.url, createdAt: new Date(row.created_at).toISOString() };
}

function ownerOrRefuse(principal: Principal | undefined): string {
  const owner = ownerOf(principal);
  if (!owner) throw new FlotillaError("forbidden", "subscriptions belong to a user or a key; this caller is neither");
  return owner;
}

/** Seed 004's notification settings: the admin's Telegram bot and chat, and each caller's subscriptions to server events. */
export function registerNotificationRoutes(app: FastifyInstance, deps: NotificationRoutesDeps): void {
  const tags = ["notifications"];
  const admin = { auth: "admin" as const };

  app.get("/api/settings/telegram", { schema: { summary: "Telegram's settings (the bot token only as its last 4 characters)", tags, response: { 200: TelegramView } }, config: admin }, async function getTelegramSettings() {
    return deps.settings.view();
  });

  app.put(
    "/api/settings/telegram",
    { schema: { summary: "Change Telegram's bot token (kept sealed), chat or whether it is on; fields left out stay", tags, body: TelegramChange, response: { 200: TelegramView } }, config: admin },
    async function putTelegramSettings(req) {
      return deps.settings.change(req.body as Static<typeof TelegramChange>);
    },
  );

  app.post(
    "/api/settings/telegram/test",
    { schema: { summary: "Send a test message to the Telegram chat, on or off", tags, response: { 200: Type.Object({ ok: Type.Boolean() }) } }, config: admin },
    async function testTelegram() {
      const target = await deps.settings.target(false);
      if (!target) throw new FlotillaError("invalid_request", "set botToken and chatId first");
      await deps.telegram.sendMessage(target, TEST_MESSAGE).catch((err: Error) => {
        throw new FlotillaError("upstream_error", err.message);
      });
      return { ok: true };
    },
  );

  const guests = { auth: "user" as const, guests: false as const };
  app.get("/api/settings/subscriptions", { schema: { summary: "The caller's subscriptions to server events", tags, response: { 200: SubscriptionsView } }, config: guests }, async function getSubscriptions(req) {
    return { subscriptions: (await deps.repo.subscriptionsOf(ownerOrRefuse(req.principal))).map(subscriptionView), channels: deps.notifier.channelNames() };
  });

  app.put(
    "/api/settings/subscriptions",
    { schema: { summary: "Replace the caller's subscriptions to server events", tags, body: SubscriptionsBody, response: { 200: SubscriptionsView } }, config: guests },
    async function putSubscriptions(req) {
      const owner = ownerOrRefuse(req.principal);
      const { subscriptions } = req.body as Static<typeof SubscriptionsBody>;
      const now = Date.now();
      const rows: NotificationSubscriptionRow[] = [];
      for (const [i, s] of subscriptions.entries()) {
        await checkSubscription(deps, s, `subscriptions[${i}]`);
        rows.push({ id: `sub_${randomUUID().replace(/-/g, "")}`, owner, server: s.server, events: JSON.stringify(s.events), channel: s.channel, url: s.url ?? null, created_at: now + i });
      }
      await deps.repo.replaceSubscriptions(owner, rows);
      return { subscriptions: rows.map(subscriptionView), channels: deps.notifier.channelNames() };
    },
  );
}

/** A channel that exists; a URL where the channel takes one (a webhook needs one), that the outbound guard allows. */
async function checkSubscription(deps: NotificationRoutesDeps, s: Static<typeof Subscription>, at: string): Promise<void> {
  if (!deps.notifier.channel(s.channel)) throw new FlotillaError("invalid_request", `${at}.channel "${s.channel}" is not one of: ${deps.notifier.channelNames().join(", ")}`, { param: `${at}.channel` });
  if (s.channel === "webhook" && s.url === undefined) throw new FlotillaError("invalid_request", `${at}.url is needed for a webhook`, { param: `${at}.url` });
  if (s.channel === "telegram" && s.url !== undefined) throw new FlotillaError("invalid_request", `${at}.url is not taken by telegram: it goes to the admin's chat`, { param: `${at}.url` });
  if (s.url === undefined) return;
  const problem = await deps.outbound.urlProblem(s.url);
  if (problem) throw new FlotillaError("invalid_request", `${at}.url is refused: ${problem}`, { param: `${at}.url` });
}

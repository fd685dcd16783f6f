import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { startSim, type SimServer } from "../sim/index.js";
import { startFlotilla, userKey, waitFor, type Flotilla } from "./harness.js";
import { startReceiver, type Receiver } from "./receiver.js";

// Notifications on a real gateway: a simulated server goes down and comes back; a Telegram-compatible
// fake and a user's webhook receiver, both on loopback, are each told once, and a flap within the cooldown is not told again.

const BOT_TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw";
const CHAT_ID = "-1001234567890";

let gw: Flotilla;
let sim: SimServer;
let telegram: Receiver;
let hook: Receiver;
let server: string;
let user: string;

const answerOk = (_req: unknown, res: import("node:http").ServerResponse) => res.writeHead(200, { "content-type": "application/json" }).end('{"ok":true,"result":{}}');
const asUser = (path: string, init: RequestInit = {}) => fetch(gw.url + path, { ...init, headers: { authorization: `Bearer ${user}`, "content-type": "application/json" } });
const texts = () => telegram.received.map((r) => JSON.parse(r.body) as { chat_id: string; text: string });
const hookEvents = () => hook.received.map((r) => (JSON.parse(r.body) as { event: string; server: string }).event);
const seen = async (kind: string) => ((await (await gw.admin("/api/server-events?hours=1")).json()) as { events: Array<{ kind: string }> }).events.filter((e) => e.kind === kind).length;
const settle = () => new Promise((resolve) => setTimeout(resolve, 800));

before(async () => {
  telegram = await startReceiver("127.0.0.1", answerOk);
  hook = await startReceiver("127.0.0.1");
  sim = await startSim({ kind: "ollama", models: ["m:latest"] });
  const yaml = [
    "poll: { interval_ms: 150, timeout_ms: 150 }",
    "outbound: { allow: ['127.0.0.1'] }",
    `notifications: { telegram_api_url: '${telegram.url.replace(/\/hook$/, "")}', retry_base_ms: 50 }`,
    "",
  ].join("\n");
  gw = await startFlotilla({ yaml, servers: [`${sim.url},ollama`] });
  server = `127.0.0.1:${sim.port}`;
  user = await userKey(gw, "watcher");
});
after(async () => {
  await gw.stop();
  await sim.close();
  await telegram.close();
  await hook.close();
});

test("Telegram's settings are the admin's: others get 403, and the bot token is never shown, only its last 4 characters", async () => {
  for (const [method, path] of [["GET", "/api/settings/telegram"], ["PUT", "/api/settings/telegram"], ["POST", "/api/settings/telegram/test"]]) {
    const res = await asUser(path, { method, body: method === "PUT" ? JSON.stringify({ isEnabled: false }) : undefined });
    assert.equal(res.status, 403, `${method} ${path}`);
  }
  const off = await gw.admin("/api/settings/telegram", { method: "PUT", body: JSON.stringify({ isEnabled: true }) });
  assert.equal(off.status, 400, "turning it on without a token is refused");
  const put = await gw.admin("/api/settings/telegram", { method: "PUT", body: JSON.stringify({ botToken: BOT_TOKEN, chatId: CHAT_ID, isEnabled: true }) });
  const putText = await put.text();
  assert.equal(put.status, 200, putText);
  const got = await gw.admin("/api/settings/telegram");
  const gotText = await got.text();
  for (const text of [putText, gotText]) assert.ok(!text.includes(BOT_TOKEN) && !text.includes("AAHdqTcv"), text);
  assert.deepEqual(JSON.parse(gotText), { hasBotToken: true, botTokenLast4: "Dsaw", chatId: CHAT_ID, isEnabled: true });
  const sent = await gw.admin("/api/settings/telegram/test", { method: "POST" });
  assert.equal(sent.status, 200);
  assert.equal(telegram.received[0].path, `/bot${BOT_TOKEN}/sendMessage`);
  assert.equal(texts()[0].chat_id, CHAT_ID);
  telegram.received.length = 0;
});

test("a user's subscriptions are their own, and a webhook URL the outbound guard refuses or an unknown channel is a 400 naming it", async () => {
  const bad = [
    [{ server: "*", events: ["server.down"], channel: "webhook", url: "http://127.0.0.2/hook" }, "subscriptions[0].url"],
    [{ server: "*", events: ["server.down"], channel: "pigeon" }, "subscriptions[0].channel"],
    [{ server: "*", events: ["server.down"], channel: "webhook" }, "subscriptions[0].url"],
  ] as const;
  for (const [subscription, param] of bad) {
    const res = await asUser("/api/settings/subscriptions", { method: "PUT", body: JSON.stringify({ subscriptions: [subscription] }) });
    assert.equal(res.status, 400);
    assert.match(((await res.json()) as { error: string }).error, new RegExp(`^${param.replace(/[[\]]/g, "\\$&")}`));
  }
  const subscriptions = [
    { server: "*", events: ["server.down", "server.up"], channel: "telegram" },
    { server, events: ["server.down", "server.up"], channel: "webhook", url: hook.url },
  ];
  const put = await asUser("/api/settings/subscriptions", { method: "PUT", body: JSON.stringify({ subscriptions }) });
  assert.equal(put.status, 200);
  const got = (await (await asUser("/api/settings/subscriptions")).json()) as { subscriptions: Array<{ server: string; channel: string; url: string | null }>; channels: string[] };
  assert.deepEqual(got.subscriptions.map((s) => [s.server, s.channel, s.url]), [["*", "telegram", null], [server, "webhook", hook.url]]);
  assert.deepEqual(got.channels, ["telegram", "webhook"]);
  const admins = (await (await gw.admin("/api/settings/subscriptions")).json()) as { subscriptions: unknown[] };
  assert.deepEqual(admins.subscriptions, [], "the admin has subscriptions of their own, none yet");
});

test("a server going down is told once on each channel, coming back once, and a flap within the cooldown is not told again", async () => {
  const port = sim.port;
  await sim.close();
  await waitFor("the down on Telegram", () => texts().length === 1 && hook.received.length === 1, 8000);
  await settle();
  assert.equal(texts().length, 1);
  assert.equal(texts()[0].chat_id, CHAT_ID);
  assert.match(texts()[0].text, new RegExp(`Server ${server.replace(/\./g, "\\.")} is down`));
  assert.deepEqual(hookEvents(), ["server.down"]);
  assert.equal(JSON.parse(hook.received[0].body).server, server);

  sim = await startSim({ kind: "ollama", models: ["m:latest"], port });
  await waitFor("the up", () => texts().length === 2 && hook.received.length === 2, 8000);
  assert.match(texts()[1].text, /is back up/);
  assert.deepEqual(hookEvents(), ["server.down", "server.up"]);

  await sim.close();
  await waitFor("the gateway seeing the second down", async () => (await seen("server_offline")) === 2, 8000);
  sim = await startSim({ kind: "ollama", models: ["m:latest"], port });
  // Online: first seen, back, and back again.
  await waitFor("the gateway seeing it back again", async () => (await seen("server_online")) === 3, 8000);
  await settle();
  assert.equal(texts().length, 2, "the flap is within the cooldown: nothing more on Telegram");
  assert.deepEqual(hookEvents(), ["server.down", "server.up"]);
});

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { Browser } from "playwright-core";
import { ADMIN_KEY, startFlotilla, userKey, type Flotilla } from "../../e2e/harness.js";
import { startReceiver, type Receiver } from "../../e2e/receiver.js";
import { launchChromium, screenshots, signInWithKey, watchedPage } from "../browser-harness.js";

const shot = screenshots("notifications");
const BOT_TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw";
const CHAT_ID = "-1001234567890";

interface Stored {
  subscriptions: Array<{ server: string; events: string[]; channel: string; url: string | null }>;
}

let gw: Flotilla;
let telegram: Receiver;
let hook: Receiver;
let browser: Browser | undefined;
let missing: string | undefined;

const answerOk = (_req: unknown, res: import("node:http").ServerResponse) => res.writeHead(200, { "content-type": "application/json" }).end('{"ok":true,"result":{}}');
const fields = (stored: Stored) => stored.subscriptions.map(({ server, events, channel, url }) => ({ server, events, channel, url }));

describe("the Notifications page", () => {
  before(async () => {
    ({ browser, missing } = await launchChromium());
    if (!browser) return;
    // A Telegram-compatible fake on loopback, as test/e2e/notifications.test.ts uses, and a webhook receiver the outbound guard allows.
    telegram = await startReceiver("127.0.0.1", answerOk);
    hook = await startReceiver("127.0.0.1");
    const yaml = ["outbound: { allow: ['127.0.0.1'] }", `notifications: { telegram_api_url: '${telegram.url.replace(/\/hook$/, "")}' }`, ""].join("\n");
    gw = await startFlotilla({ yaml });
  });
  after(async () => {
    await browser?.close();
    await gw?.stop();
    await telegram?.close();
    await hook?.close();
  });

  test("an admin sets the Telegram bot (its token never on the page), sends a test message, and subscribes a webhook to one server", async (t) => {
    if (!browser) return t.skip(missing);
    const { page, problems } = await watchedPage(browser);
    await signInWithKey(page, gw.url, ADMIN_KEY, "/dashboard/notifications");
    const bot = page.getByRole("region", { name: /Telegram/ });
    await bot.getByText("Bot token: not set").waitFor();
    await bot.getByLabel("Bot token").fill(BOT_TOKEN);
    await bot.getByLabel("Chat", { exact: true }).fill(CHAT_ID);
    await bot.getByLabel("Send notices to this chat").check();
    await bot.getByRole("button", { name: "Save Telegram settings" }).click();
    await bot.getByText("Bot token: set").waitFor();
    assert.deepEqual(await (await gw.admin("/api/settings/telegram")).json(), { hasBotToken: true, botTokenLast4: "Dsaw", chatId: CHAT_ID, isEnabled: true });
    assert.equal(await bot.getByLabel("New bot token").inputValue(), "", "the typed token is cleared once saved");
    const secret = BOT_TOKEN.split(":")[1];
    assert.ok(!(await page.content()).includes(secret.slice(0, 12)), "the page never shows the token");

    await bot.getByRole("button", { name: "Send a test message" }).click();
    await bot.getByRole("status").getByText("Telegram took the test message").waitFor();
    assert.equal(telegram.received.length, 1);
    assert.equal(telegram.received[0].path, `/bot${BOT_TOKEN}/sendMessage`);
    assert.equal((JSON.parse(telegram.received[0].body) as { chat_id: string }).chat_id, CHAT_ID);
    assert.ok(!(await page.content()).includes(secret.slice(0, 12)));

    const mine = page.getByRole("region", { name: "Your subscriptions" });
    await mine.getByText("No subscriptions yet.").waitFor();
    await mine.getByRole("button", { name: "Add a subscription" }).click();
    const first = mine.getByRole("group", { name: "Subscription 1" });
    await first.getByLabel("Server").fill("gpu-1");
    await first.getByLabel("comes back").uncheck();
    await first.getByLabel("reboots").check();
    await first.getByLabel("Channel").selectOption("webhook");
    await first.getByLabel("URL").fill(hook.url);
    await mine.getByRole("button", { name: "Save subscriptions" }).click();
    await mine.getByRole("status").getByText("Saved.").waitFor();
    const stored = (await (await gw.admin("/api/settings/subscriptions")).json()) as Stored;
    assert.deepEqual(fields(stored), [{ server: "gpu-1", events: ["server.down", "server.reboot"], channel: "webhook", url: hook.url }]);
    await shot(page, "notifications");

    await page.reload();
    await page.getByRole("group", { name: "Subscription 1" }).getByLabel("URL").waitFor();
    assert.equal(await page.getByRole("group", { name: "Subscription 1" }).getByLabel("Server").inputValue(), "gpu-1");
    assert.ok(!(await page.content()).includes(secret.slice(0, 12)));
    assert.deepEqual(problems, []);
  });

  test("a user sees only their own subscriptions, not Telegram's settings; on a phone, in dark mode, without a horizontal scroll", async (t) => {
    if (!browser) return t.skip(missing);
    const key = await userKey(gw, "watcher");
    const { page, problems } = await watchedPage(browser, { viewport: { width: 390, height: 844 }, colorScheme: "dark" });
    await signInWithKey(page, gw.url, key, "/dashboard/notifications");
    const mine = page.getByRole("region", { name: "Your subscriptions" });
    await mine.getByText("No subscriptions yet.").waitFor();
    assert.equal(await page.getByRole("region", { name: /Telegram/ }).count(), 0);

    await mine.getByRole("button", { name: "Add a subscription" }).click();
    await mine.getByRole("group", { name: "Subscription 1" }).getByLabel("Channel").selectOption("telegram");
    await mine.getByRole("button", { name: "Save subscriptions" }).click();
    await mine.getByRole("status").getByText("Saved.").waitFor();
    const res = await fetch(`${gw.url}/api/settings/subscriptions`, { headers: { authorization: `Bearer ${key}` } });
    assert.deepEqual(fields((await res.json()) as Stored), [{ server: "*", events: ["server.down", "server.up"], channel: "telegram", url: null }]);
    assert.equal(fields((await (await gw.admin("/api/settings/subscriptions")).json()) as Stored).length, 1, "the admin's are still their own");

    assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= innerWidth), "nothing is wider than the phone");
    await shot(page, "phone-dark");
    assert.deepEqual(problems, []);
  });
});

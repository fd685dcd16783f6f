import assert from "node:assert/strict";
import { test } from "node:test";
import type { EventRow, NotificationSubscriptionRow } from "../store/index.js";
import type { NotificationChannel, ServerNotice } from "./channel.js";
import { Notifier, noticeOf, type NotifierOptions } from "./notifier.js";

const T0 = 1_700_000_000_000;
const COOLDOWN = 1_800_000;

function subscription(events: string[], channel = "fake", url: string | null = null, server = "*"): NotificationSubscriptionRow {
  return { id: `s_${channel}_${url}`, owner: "u1", server, events: JSON.stringify(events), channel, url, created_at: T0 };
}

/** The repo's contract in memory: one send per (server, event) per cooldown. */
function memoryRepo(subscriptions: NotificationSubscriptionRow[]): NotifierOptions["repo"] {
  const sent = new Map<string, number>();
  return {
    subscriptionsAbout: async (server) => subscriptions.filter((s) => s.server === server || s.server === "*"),
    claimSend: async (server, event, now, cooldownMs) => {
      const last = sent.get(`${server} ${event}`);
      if (last !== undefined && last > now - cooldownMs) return false;
      sent.set(`${server} ${event}`, now);
      return true;
    },
  };
}

/** A channel that records what it was sent, failing the first `failures` sends. */
function fakeChannel(failures = 0): NotificationChannel & { sent: Array<[ServerNotice, Readonly<Record<string, unknown>>]>; tries: number } {
  return {
    name: "fake",
    sent: [],
    tries: 0,
    async send(notice, recipient) {
      this.tries++;
      if (this.tries <= failures) throw new Error(`refused ${this.tries}`);
      this.sent.push([notice, recipient]);
    },
  };
}

function setup(extra: Partial<NotifierOptions> & { subscriptions?: NotificationSubscriptionRow[]; failures?: number } = {}) {
  let now = T0;
  const waits: number[] = [];
  const warnings: string[] = [];
  const down = new Set<string>();
  const channel = fakeChannel(extra.failures);
  const notifier = new Notifier({
    repo: memoryRepo(extra.subscriptions ?? [subscription(["server.down", "server.up"])]),
    owner: "gw_test",
    cooldownMs: COOLDOWN,
    maxAttempts: 3,
    retryBaseMs: 1000,
    recheckMs: 60_000,
    isDown: (server) => down.has(server),
    now: () => now,
    sleep: async (ms) => void waits.push(ms),
    log: { warn: (m) => void warnings.push(m) },
    ...extra,
  });
  notifier.addChannel(channel);
  return { notifier, channel, waits, warnings, down, advance: (ms: number) => void (now += ms) };
}

const notice = (event: string, server = "gpu-1"): ServerNotice => ({ event, server, message: `${server} ${event}`, at: T0 });

test("a server flapping within the cooldown is told down once and up once", async () => {
  const { notifier, channel, advance } = setup();
  await notifier.notify(notice("server.down"));
  advance(60_000);
  await notifier.notify(notice("server.up"));
  advance(60_000);
  await notifier.notify(notice("server.down"));
  await notifier.notify(notice("server.up"));
  assert.deepEqual(channel.sent.map(([n]) => n.event), ["server.down", "server.up"]);
  advance(COOLDOWN);
  await notifier.notify(notice("server.down"));
  assert.deepEqual(channel.sent.map(([n]) => n.event), ["server.down", "server.up", "server.down"], "after the cooldown it is told again");
  await notifier.notify(notice("server.down", "gpu-2"));
  assert.equal(channel.sent.length, 4, "another server has its own cooldown");
});

test("only subscribers to the event are told, each channel and URL once however many subscriptions lead there", async () => {
  const subscriptions = [subscription(["server.up"]), subscription(["server.down"], "fake", "https://a.example/"), subscription(["server.down", "server.up"], "fake", "https://a.example/"), subscription(["server.down"], "fake", "https://b.example/")];
  const { notifier, channel } = setup({ subscriptions });
  await notifier.notify(notice("server.down"));
  assert.deepEqual(channel.sent.map(([, r]) => r.url).sort(), ["https://a.example/", "https://b.example/"]);
});

test("a failed send is retried with doubling waits, and given up after max_attempts with a warning", async () => {
  const twice = setup({ failures: 2 });
  await twice.notifier.notify(notice("server.down"));
  assert.deepEqual([twice.channel.tries, twice.channel.sent.length, twice.waits], [3, 1, [1000, 2000]]);
  const always = setup({ failures: 10 });
  await always.notifier.notify(notice("server.down"));
  assert.deepEqual([always.channel.tries, always.channel.sent.length, always.waits], [3, 0, [1000, 2000]]);
  assert.match(always.warnings.join("\n"), /server\.down about gpu-1 not sent after 3 attempts: refused 3/);
});

test("while the reference address does not answer, a down is held; when it answers, it goes out if the server is still down", async () => {
  let online = false;
  const { notifier, channel, down } = setup({ online: async () => online });
  down.add("gpu-1");
  down.add("gpu-2");
  await notifier.notify(notice("server.down"));
  await notifier.notify(notice("server.down", "gpu-2"));
  await notifier.notify(notice("server.down", "gpu-3"));
  assert.equal(channel.sent.length, 0, "nothing about servers being down while the gateway may be the one offline");
  down.delete("gpu-2");
  await notifier.notify(notice("server.up", "gpu-3"));
  assert.equal(channel.sent.length, 0, "the up of a server whose down was held is no news either");
  online = true;
  await notifier.notify(notice("server.down", "gpu-4"));
  await notifier.idle();
  assert.deepEqual(channel.sent.map(([n]) => n.server).sort(), ["gpu-1", "gpu-4"], "gpu-2 came back meanwhile, gpu-3's down was taken back");
});

test("a held down goes out when a recheck finds the reference answering again", async (t) => {
  t.mock.timers.enable({ apis: ["setInterval"] });
  let online = false;
  const { notifier, channel, down } = setup({ online: async () => online });
  down.add("gpu-1");
  await notifier.notify(notice("server.down"));
  t.mock.timers.tick(60_000);
  await notifier.idle();
  assert.equal(channel.sent.length, 0);
  online = true;
  t.mock.timers.tick(60_000);
  await notifier.idle();
  await notifier.idle();
  assert.deepEqual(channel.sent.map(([n]) => n.event), ["server.down"]);
  await notifier.close();
});

test("server.up and server.reboot are not checked against the reference", async () => {
  const { notifier, channel } = setup({ online: async () => false, subscriptions: [subscription(["server.up", "server.reboot"])] });
  await notifier.notify(notice("server.up"));
  await notifier.notify(notice("server.reboot"));
  assert.deepEqual(channel.sent.map(([n]) => n.event), ["server.up", "server.reboot"]);
});

test("fleet events become notices; a server first seen is not news", () => {
  const row = (kind: EventRow["kind"], detail: string | null): EventRow => ({ id: "e", time: T0, kind, node: "gpu-1", model: null, detail });
  assert.deepEqual(noticeOf(row("server_offline", "ECONNREFUSED")), { event: "server.down", server: "gpu-1", message: "🔴 Server gpu-1 is down (ECONNREFUSED)", at: T0 });
  assert.equal(noticeOf(row("server_online", null))?.event, "server.up");
  assert.equal(noticeOf(row("server_online", "first seen")), undefined);
  assert.equal(noticeOf(row("server_reboot", "version 1 → 2"))?.event, "server.reboot");
  assert.equal(noticeOf(row("model_loaded", null)), undefined);
});

test("a channel name is taken once", () => {
  const { notifier } = setup();
  assert.throws(() => notifier.addChannel(fakeChannel()), /named "fake" exists already/);
  assert.deepEqual(notifier.channelNames(), ["fake"]);
});

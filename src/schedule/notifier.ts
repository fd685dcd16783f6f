import { setTimeout as wait } from "node:timers/promises";
import type { EventRow, NotificationRepo, NotificationSubscriptionRow } from "../store/index.js";
import type { NotificationChannel, ServerNotice } from "./channel.js";

/** The events a subscription may name. */
export const NOTIFICATION_EVENTS = ["server.down", "server.up", "server.reboot"] as const;

export interface NotifierOptions {
  repo: Pick<NotificationRepo, "subscriptionsAbout" | "claimSend">;
  /** This replica, as the holder of the sends it claims. */
  owner: string;
  /** After a notice of one event about one server, how long the same one is not sent again. */
  cooldownMs: number;
  /** Sends per recipient before it is given up; each retry waits twice the one before, from retryBaseMs. */
  maxAttempts: number;
  retryBaseMs: number;
  /** Whether the gateway itself reaches the outside world; undefined: it is taken to. */
  online?: () => Promise<boolean>;
  /** While offline, how often `online` is asked again. */
  recheckMs: number;
  /** Whether a server is down now: a held notice goes out only if it still is. */
  isDown(server: string): boolean;
  now?: () => number;
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  log: { warn(message: string): void };
}

/**
 * Tells subscribers what happens to the fleet's servers, on their channels:
 * once across replicas and once per cooldown for each (server, event), with
 * a few retries per recipient. A `server.down` seen while the gateway itself
 * is offline (its reference address does not answer) is held, not sent: it
 * goes out when the reference answers again, if the server is still down.
 */
export class Notifier {
  private readonly channels = new Map<string, NotificationChannel>();
  /** Per server, the down notice held while the gateway was offline. */
  private readonly held = new Map<string, ServerNotice>();
  private readonly now: () => number;
  private readonly sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  private readonly closing = new AbortController();
  private readonly pending = new Set<Promise<void>>();
  private recheck: NodeJS.Timeout | undefined;

  constructor(private readonly options: NotifierOptions) {
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? ((ms, signal) => wait(ms, undefined, { signal }));
  }

  /** Adds a way of telling people (the built-in ones, or a plugin's); its name is what subscriptions give as `channel`. */
  addChannel(channel: NotificationChannel): void {
    if (this.channels.has(channel.name)) throw new Error(`a notification channel named "${channel.name}" exists already`);
    this.channels.set(channel.name, channel);
  }

  channel(name: string): NotificationChannel | undefined {
    return this.channels.get(name);
  }

  channelNames(): string[] {
    return [...this.channels.keys()];
  }

  /** What the fleet saw, as a notice, when it is one subscribers may want. */
  fleetEvent(row: EventRow): void {
    const notice = noticeOf(row);
    if (notice) this.track(this.notify(notice));
  }

  /** Sends `notice` to those subscribed to it, unless held or cooling down; resolves when done with it. */
  async notify(notice: ServerNotice): Promise<void> {
    if (notice.event === "server.up" && this.held.delete(notice.server)) return;
    if (notice.event === "server.down" && !(await this.isOnline())) {
      this.hold(notice);
      return;
    }
    await this.deliver(notice);
  }

  /** The work started so far, finished. */
  async idle(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }

  async close(): Promise<void> {
    clearInterval(this.recheck);
    this.closing.abort();
    await this.idle();
  }

  private track(work: Promise<void>): void {
    const tracked = work.catch((err: Error) => this.options.log.warn(`a notification could not be sent: ${err.message}`)).finally(() => this.pending.delete(tracked));
    this.pending.add(tracked);
  }

  private async isOnline(): Promise<boolean> {
    const online = this.options.online ? await this.options.online() : true;
    if (online && this.held.size > 0) this.release();
    return online;
  }

  private hold(notice: ServerNotice): void {
    this.options.log.warn(`held "${notice.message}": the gateway's reference address does not answer, so the gateway may be the one offline`);
    this.held.set(notice.server, notice);
    this.recheck ??= setInterval(() => this.track(this.isOnline().then(() => undefined)), this.options.recheckMs);
    this.recheck.unref();
  }

  /** Online again: the held notices go out, for the servers still down. */
  private release(): void {
    clearInterval(this.recheck);
    this.recheck = undefined;
    const held = [...this.held.values()];
    this.held.clear();
    for (const notice of held) if (this.options.isDown(notice.server)) this.track(this.deliver(notice));
  }

  private async deliver(notice: ServerNotice): Promise<void> {
    const recipients = recipientsOf(notice, await this.options.repo.subscriptionsAbout(notice.server));
    if (recipients.length === 0) return;
    const { repo, owner, cooldownMs } = this.options;
    if (!(await repo.claimSend(notice.server, notice.event, this.now(), cooldownMs, owner))) return;
    await Promise.all(recipients.map((r) => this.sendWithRetries(notice, r)));
  }

  private async sendWithRetries(notice: ServerNotice, { channel: name, recipient }: Recipient): Promise<void> {
    const channel = this.channels.get(name);
    if (!channel) return this.options.log.warn(`no notification channel "${name}": ${notice.event} about ${notice.server} not sent there`);
    const { maxAttempts, retryBaseMs, log } = this.options;
    for (let attempt = 1; ; attempt++) {
      try {
        return await channel.send(notice, recipient);
      } catch (err) {
        if (attempt >= maxAttempts || this.closing.signal.aborted) return log.warn(`${name}: ${notice.event} about ${notice.server} not sent after ${attempt} attempts: ${(err as Error).message}`);
      }
      try {
        await this.sleep(retryBaseMs * 2 ** (attempt - 1), this.closing.signal);
      } catch {
        return log.warn(`${name}: ${notice.event} about ${notice.server} not sent: the gateway is stopping`);
      }
    }
  }
}

interface Recipient {
  channel: string;
  recipient: Readonly<Record<string, unknown>>;
}

/** Each channel and address once, however many subscriptions lead there. */
function recipientsOf(notice: ServerNotice, subscriptions: NotificationSubscriptionRow[]): Recipient[] {
  const found = new Map<string, Recipient>();
  for (const s of subscriptions) {
    if (!(JSON.parse(s.events) as string[]).includes(notice.event)) continue;
    const recipient = s.url === null ? {} : { url: s.url };
    found.set(`${s.channel} ${s.url ?? ""}`, { channel: s.channel, recipient });
  }
  return [...found.values()];
}

/** A fleet event as the notice subscribers read; a server first seen is no news. */
export function noticeOf(row: EventRow): ServerNotice | undefined {
  const detail = row.detail ? ` (${row.detail})` : "";
  switch (row.kind) {
    case "server_offline":
      return { event: "server.down", server: row.node, message: `🔴 Server ${row.node} is down${detail}`, at: row.time };
    case "server_online":
      return row.detail === "first seen" ? undefined : { event: "server.up", server: row.node, message: `🟢 Server ${row.node} is back up`, at: row.time };
    case "server_reboot":
      return { event: "server.reboot", server: row.node, message: `🔄 Server ${row.node} rebooted${detail}`, at: row.time };
    default:
      return undefined;
  }
}

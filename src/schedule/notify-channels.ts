import { boundedFetch, type OutboundGuard } from "../kernel/index.js";
import type { NotificationChannel, ServerNotice } from "./channel.js";

/** What the Telegram channel sends with: the admin's settings, the token opened. */
export interface TelegramTarget {
  botToken: string;
  chatId: string;
}

const ANSWER_MAX_BYTES = 64 * 1024;

/**
 * Telegram's Bot API (`POST {apiUrl}/bot<token>/sendMessage`) to the chat the
 * admin set; nothing while Telegram is turned off. `apiUrl` is the operator's
 * (configuration), not a user's, so it is reached directly, as a queue's own
 * webhook_url is, rather than through the outbound guard.
 */
export class TelegramChannel implements NotificationChannel {
  readonly name = "telegram";

  constructor(
    private readonly apiUrl: string,
    /** The settings in force, or undefined while Telegram is off or not set up. */
    private readonly target: () => Promise<TelegramTarget | undefined>,
    private readonly timeoutMs: number,
  ) {}

  async send(notice: ServerNotice): Promise<void> {
    const target = await this.target();
    if (target) await this.sendMessage(target, notice.message);
  }

  /** One message to the target's chat; throws, never naming the token, when Telegram does not take it. */
  async sendMessage({ botToken, chatId }: TelegramTarget, text: string): Promise<void> {
    const url = `${this.apiUrl.replace(/\/+$/, "")}/bot${botToken}/sendMessage`;
    let answer;
    try {
      answer = await boundedFetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ chat_id: chatId, text }) }, { timeoutMs: this.timeoutMs, maxBytes: ANSWER_MAX_BYTES });
    } catch (err) {
      throw new Error(`Telegram did not answer: ${(err as Error).message.replaceAll(botToken, "<token>")}`);
    }
    if (answer.status >= 200 && answer.status < 300) return;
    throw new Error(`Telegram answered ${answer.status}${describeTelegramError(answer.body)}`);
  }
}

/** Telegram's own reason (`{"ok":false,"description":"..."}`), when it gave one. */
function describeTelegramError(body: Uint8Array): string {
  try {
    const { description } = JSON.parse(Buffer.from(body).toString("utf8")) as { description?: unknown };
    return typeof description === "string" ? `: ${description.slice(0, 300)}` : "";
  } catch {
    return "";
  }
}

/**
 * POSTs the notice as JSON to the subscription's URL, a user's, so through the
 * outbound guard (checked again against the address it reaches now); a
 * redirect is not followed and an answer other than 2xx fails the send.
 */
export function webhookChannel(outbound: Pick<OutboundGuard, "fetch">, timeoutMs: number): NotificationChannel {
  return {
    name: "webhook",
    async send(notice, recipient) {
      const url = String(recipient.url);
      const body = JSON.stringify({ event: notice.event, server: notice.server, message: notice.message, at: new Date(notice.at).toISOString() });
      const answer = await outbound.fetch(url, { method: "POST", headers: { "content-type": "application/json", "user-agent": "flotilla-notifications", "x-flotilla-event": notice.event }, body }, { timeoutMs });
      if (answer.status < 200 || answer.status >= 300) throw new Error(`the webhook answered ${answer.status}`);
    },
  };
}

/**
 * Whether the gateway reaches its reference address (the operator's, from the
 * configuration): any answer at all says it is online; no answer in time, that
 * it may be the one cut off.
 */
export function referenceProbe(url: string, timeoutMs: number): () => Promise<boolean> {
  return async function referenceAnswers() {
    try {
      await boundedFetch(url, { method: "HEAD" }, { timeoutMs });
      return true;
    } catch {
      return false;
    }
  };
}

import { randomUUID } from "node:crypto";
import type { OutboundGuard, Sealer } from "../kernel/index.js";
import type { Store, WebhookDeliveryRow, WebhookRow } from "../store/index.js";
import { newWebhookSecret, signatureHeaders } from "./signing.js";

export interface DispatcherOptions {
  /** Every delivery goes through it: a webhook's URL is a user's, and what it resolves to may change after it was saved. */
  outbound: Pick<OutboundGuard, "fetch">;
  maxAttempts: number;
  retryBaseMs: number;
  timeoutMs: number;
  pollMs: number;
  log: { warn(msg: string): void };
  /** Seals webhooks' signing secrets in the database and opens them to sign. */
  signingSecrets: Sealer;
}

/** An event as delivered: OpenAI's webhook event shape, with the object it is about in `data`. */
export interface WebhookEvent {
  id: string;
  object: "event";
  created_at: number;
  type: string;
  data: Record<string, unknown>;
}

const BATCH = 20;

/**
 * Delivers events to the webhooks that take them: each delivery is a row
 * first (the owner's delivery log), tried at once, then retried with backoff
 * (retry_base_ms doubling) until it succeeds or max_attempts are spent. A
 * poller takes due retries, claiming each so that of several replicas one
 * delivers it, and picks up what a restart left pending.
 */
export class WebhookDispatcher {
  private timer?: NodeJS.Timeout;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private readonly store: Pick<Store, "webhooks">,
    private readonly options: DispatcherOptions,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.sweep(), this.options.pollMs);
    this.timer.unref();
  }

  /** A new webhook's signing secret: shown once, to its owner, and stored sealed. */
  newSigningSecret(): { secret: string; stored: string } {
    const secret = newWebhookSecret();
    return { secret, stored: this.options.signingSecrets.seal(secret) };
  }

  /** Records and sends `type` to each webhook of `owner` that takes it. */
  async emitFor(owner: string, type: string, data: Record<string, unknown>): Promise<void> {
    const hooks = await this.store.webhooks.listForOwner(owner);
    if (hooks.length > 0) await this.emit(hooks, type, data);
  }

  /** Records and sends `type` to each of `hooks` that takes it. */
  async emit(hooks: WebhookRow[], type: string, data: Record<string, unknown>): Promise<WebhookEvent> {
    const event: WebhookEvent = { id: `evt_${randomUUID().replace(/-/g, "")}`, object: "event", created_at: Math.floor(Date.now() / 1000), type, data };
    const payload = JSON.stringify(event);
    for (const hook of hooks) {
      if (!hook.enabled || !takes(hook, type)) continue;
      const now = Date.now();
      const row: WebhookDeliveryRow = {
        id: `whd_${randomUUID().replace(/-/g, "")}`,
        webhook_id: hook.id,
        event_id: event.id,
        event_type: type,
        payload,
        status: "pending",
        attempts: 0,
        last_status: null,
        last_error: null,
        next_attempt_at: now,
        created_at: now,
        updated_at: now,
      };
      await this.store.webhooks.insertDelivery(row);
      this.track(this.attempt(row));
    }
    return event;
  }

  private track(work: Promise<void>): void {
    this.inFlight.add(work);
    void work.finally(() => this.inFlight.delete(work));
  }

  private async sweep(): Promise<void> {
    try {
      for (const row of await this.store.webhooks.due(Date.now(), BATCH)) this.track(this.attempt(row));
    } catch (err) {
      this.options.log.warn(`webhook deliveries could not be read: ${(err as Error).message}`);
    }
  }

  private async attempt(row: WebhookDeliveryRow): Promise<void> {
    // Held for the attempt's length: no other replica (or sweep) tries it meanwhile.
    if (!(await this.store.webhooks.claim(row.id, row.next_attempt_at, Date.now() + this.options.timeoutMs * 2))) return;
    const hook = await this.store.webhooks.get(row.webhook_id);
    if (!hook) return;
    const attempts = row.attempts + 1;
    let status: number | null = null;
    let error: string | null = null;
    try {
      // A redirect is not followed: the event goes to the URL its owner gave, or nowhere.
      const res = await this.options.outbound.fetch(hook.url, {
        method: "POST",
        headers: { "content-type": "application/json", "user-agent": "flotilla-webhooks", ...signatureHeaders(this.options.signingSecrets.open(hook.secret), row.event_id, row.payload) },
        body: row.payload,
      }, { timeoutMs: this.options.timeoutMs });
      status = res.status;
      if (status < 200 || status >= 300) error = `answered ${status}`;
    } catch (err) {
      const cause = (err as { cause?: { message?: string } }).cause;
      error = cause?.message ?? (err as Error).message;
    }
    const delivered = error === null;
    const spent = attempts >= this.options.maxAttempts;
    await this.store.webhooks.recordAttempt(row.id, {
      status: delivered ? "delivered" : spent ? "failed" : "pending",
      attempts,
      last_status: status,
      last_error: error,
      next_attempt_at: delivered || spent ? null : Date.now() + this.options.retryBaseMs * 2 ** (attempts - 1),
    });
    if (!delivered && spent) this.options.log.warn(`webhook ${hook.id} (${hook.url}): ${row.event_type} ${row.event_id} failed after ${attempts} attempts: ${error}`);
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await Promise.allSettled([...this.inFlight]);
  }
}

/** Whether a webhook takes events of `type`: named, or `*`. */
export function takes(hook: WebhookRow, type: string): boolean {
  const events = JSON.parse(hook.events) as string[];
  return events.includes("*") || events.includes(type);
}

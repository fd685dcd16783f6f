import { setImmediate as nextTurn } from "node:timers/promises";
import type { AuditRepo } from "../store/index.js";

export interface AuditRetentionOptions {
  /** Rows older than this many days go; 0 keeps every row. */
  retentionDays: number;
  /** How often a prune runs. Default: hourly. */
  everyMs?: number;
  /** Rows per DELETE. Default 1000: a short statement, so SQLite's one connection is never held long. */
  batch?: number;
  onError(err: unknown): void;
}

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

/**
 * Deletes old audit rows in small batches, off the request path. Replicas
 * sharing PostgreSQL each run it: the delete is idempotent (rows another
 * replica took first are simply not there), and each replica's first run is
 * put off by a random part of the interval, so they rarely overlap.
 */
export class AuditRetention {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<number> | undefined;
  private closed = false;

  constructor(
    private readonly audit: Pick<AuditRepo, "pruneRequests"> & Partial<Pick<AuditRepo, "pruneRollups">>,
    private readonly options: AuditRetentionOptions,
  ) {}

  start(): void {
    if (this.options.retentionDays === 0) return;
    const every = this.options.everyMs ?? HOUR_MS;
    const tick = () => {
      void this.prune().catch(this.options.onError);
      this.timer = setTimeout(tick, every).unref();
    };
    this.timer = setTimeout(tick, Math.floor(Math.random() * every)).unref();
  }

  /** Deletes every row past retention, batch by batch, then the hour rollups past theirs; answers how many rows. One prune at a time. */
  prune(now = Date.now()): Promise<number> {
    this.running ??= this.pruneAll(now).finally(() => (this.running = undefined));
    return this.running;
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    await this.running?.catch(() => undefined);
  }

  private async pruneAll(now: number): Promise<number> {
    if (this.options.retentionDays === 0) return 0;
    const rows = await this.pruneRows(now - this.options.retentionDays * DAY_MS);
    if (!this.closed) await this.audit.pruneRollups?.(now);
    return rows;
  }

  private async pruneRows(beforeMs: number): Promise<number> {
    const batch = this.options.batch ?? 1000;
    let total = 0;
    for (;;) {
      const deleted = await this.audit.pruneRequests(beforeMs, batch);
      total += deleted;
      if (deleted < batch || this.closed) return total;
      // Requests in flight get the connection between batches.
      await nextTurn();
    }
  }
}

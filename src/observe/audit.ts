import type { RequestRow, Store, UsageRow } from "../store/index.js";

export interface AuditWriterOptions {
  flushIntervalMs: number;
  batchSize: number;
  onError?: (err: unknown) => void;
}

/** Past this many unwritten rows (the database is away), the oldest are dropped and counted. */
const MAX_PENDING = 100_000;

/**
 * Request rows and usage counts are gathered in memory and written in one
 * transaction per batch, so no request ever waits on the database.
 */
export class AuditWriter {
  private pending: RequestRow[] = [];
  private usage = new Map<string, UsageRow>();
  private flushing: Promise<void> = Promise.resolve();
  private readonly timer: NodeJS.Timeout;
  dropped = 0;

  constructor(
    private readonly store: Pick<Store, "audit">,
    private readonly options: AuditWriterOptions,
  ) {
    this.timer = setInterval(() => void this.flush(), options.flushIntervalMs);
    this.timer.unref();
  }

  get pendingCount(): number {
    return this.pending.length;
  }

  record(row: RequestRow): void {
    this.pending.push(row);
    if (this.pending.length > MAX_PENDING) {
      this.pending.shift();
      this.dropped++;
    }
    const day = new Date(row.time).toISOString().slice(0, 10);
    const model = row.model ?? "";
    const keyId = row.key_id ?? "";
    const id = `${day}|${model}|${keyId}`;
    let usage = this.usage.get(id);
    if (!usage) this.usage.set(id, (usage = { day, model, key_id: keyId, requests: 0, tokens_in: 0, tokens_out: 0, errors: 0 }));
    usage.requests++;
    usage.tokens_in += row.tokens_in ?? 0;
    usage.tokens_out += row.tokens_out ?? 0;
    if (row.status >= 400) usage.errors++;
    if (this.pending.length >= this.options.batchSize) void this.flush();
  }

  /** Writes what is gathered; flushes run one at a time, and a failed one keeps its rows for the next. */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(() => this.writeOnce());
    return this.flushing;
  }

  private async writeOnce(): Promise<void> {
    if (this.pending.length === 0 && this.usage.size === 0) return;
    const rows = this.pending;
    const usage = this.usage;
    this.pending = [];
    this.usage = new Map();
    try {
      await this.store.audit.write(rows, [...usage.values()]);
    } catch (err) {
      this.pending = rows.concat(this.pending);
      for (const [id, u] of usage) {
        const later = this.usage.get(id);
        if (later) {
          later.requests += u.requests;
          later.tokens_in += u.tokens_in;
          later.tokens_out += u.tokens_out;
          later.errors += u.errors;
        } else this.usage.set(id, u);
      }
      this.options.onError?.(err);
    }
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }
}

import type { AuditRepo, RequestRow, UsageRow } from "../store/index.js";

export interface AuditWriterOptions {
  /** A flush runs this often (the timer does not keep the process alive). */
  flushIntervalMs: number;
  /** This many unwritten rows start a flush without waiting for the timer. */
  batchSize: number;
  /** A flush failed; its rows are kept for the next one. */
  onError?: (err: unknown) => void;
  /** Past this many unwritten rows (the database is away), the oldest are dropped and counted. Default 100,000. */
  maxPending?: number;
}

const DAY_MS = 86_400_000;

/**
 * Request rows and usage counts are gathered in memory and written in one
 * transaction per flush, so no request ever waits on the database.
 */
export class AuditWriter {
  private pending: RequestRow[] = [];
  /** usage per day, model and key, added up since the last successful flush */
  private usage = new Map<string, UsageRow>();
  private readonly timer: NodeJS.Timeout;
  private readonly maxPending: number;
  private running: Promise<void> | undefined;
  private again = false;
  /** the last flush failed: wait for the timer (or an explicit flush) rather than retry on every record */
  private failing = false;
  private droppedRows = 0;
  private dayCache = { number: Number.NaN, text: "" };

  constructor(
    private readonly store: { readonly audit: Pick<AuditRepo, "insertRequests"> },
    private readonly options: AuditWriterOptions,
  ) {
    this.maxPending = options.maxPending ?? 100_000;
    this.timer = setInterval(() => void this.flush(), options.flushIntervalMs);
    this.timer.unref();
  }

  /** Rows recorded and not yet written. */
  get pendingCount(): number {
    return this.pending.length;
  }

  /** Rows dropped unwritten because too many were pending (their usage is still counted). */
  get dropped(): number {
    return this.droppedRows;
  }

  /** Called once per finished request: memory only, never waits. */
  record(row: RequestRow): void {
    this.pending.push(row);
    if (this.pending.length > this.maxPending) this.dropOldest(Math.max(this.pending.length - this.maxPending, Math.ceil(this.maxPending / 100)));
    const day = this.dayOf(row.time);
    const model = row.model ?? "";
    const keyId = row.key_id ?? "";
    const id = `${day}\u0000${model}\u0000${keyId}`;
    let usage = this.usage.get(id);
    if (!usage) this.usage.set(id, (usage = { day, model, key_id: keyId, requests: 0, tokens_in: 0, tokens_out: 0, errors: 0 }));
    usage.requests++;
    usage.tokens_in += row.tokens_in ?? 0;
    usage.tokens_out += row.tokens_out ?? 0;
    if (row.status >= 400) usage.errors++;
    if (!this.failing && this.pending.length >= this.options.batchSize) void this.flush();
  }

  /**
   * Writes everything recorded before the call. Flushes run one at a time: a call
   * during a flush is served by one more flush right after it. Never rejects;
   * a failure goes to onError and its rows wait for the next flush.
   */
  flush(): Promise<void> {
    this.again = true;
    this.running ??= this.drain();
    return this.running;
  }

  /** Stops the timer and writes what is left. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }

  private async drain(): Promise<void> {
    try {
      while (this.again) {
        this.again = false;
        await this.writeOnce();
      }
    } finally {
      this.running = undefined;
    }
  }

  private async writeOnce(): Promise<void> {
    if (this.pending.length === 0 && this.usage.size === 0) return;
    const rows = this.pending;
    const usage = this.usage;
    this.pending = [];
    this.usage = new Map();
    try {
      await this.store.audit.insertRequests(rows, [...usage.values()]);
      this.failing = false;
    } catch (err) {
      this.failing = true;
      this.putBack(rows, usage);
      try {
        this.options.onError?.(err);
      } catch {
        // a throwing logger must not stop later flushes
      }
    }
  }

  /** A failed flush's rows go back before the ones recorded meanwhile; its usage is added to theirs. */
  private putBack(rows: RequestRow[], usage: Map<string, UsageRow>): void {
    this.pending = rows.concat(this.pending);
    if (this.pending.length > this.maxPending) this.dropOldest(this.pending.length - this.maxPending);
    for (const [id, u] of usage) {
      const later = this.usage.get(id);
      if (!later) this.usage.set(id, u);
      else {
        later.requests += u.requests;
        later.tokens_in += u.tokens_in;
        later.tokens_out += u.tokens_out;
        later.errors += u.errors;
      }
    }
  }

  /** Drops in chunks (1% of the bound) so a long outage costs one splice per chunk, not one per request. */
  private dropOldest(count: number): void {
    const n = Math.min(count, this.pending.length);
    this.pending.splice(0, n);
    this.droppedRows += n;
  }

  private dayOf(time: number): string {
    const number = Math.floor(time / DAY_MS);
    if (number !== this.dayCache.number) this.dayCache = { number, text: new Date(number * DAY_MS).toISOString().slice(0, 10) };
    return this.dayCache.text;
  }
}

/** Failures allowed before logins for the same name or address are slowed. */
const FREE_FAILURES = 5;
const WINDOW_MS = 15 * 60_000;
const MAX_WAIT_MS = 15 * 60_000;

interface Record {
  failures: number;
  first: number;
  blockedUntil: number;
}

/**
 * Slows password guessing: past five failures in a quarter hour for one
 * username or one address, each further attempt must wait, doubling from a
 * second up to fifteen minutes. Kept in memory, per replica.
 */
export class LoginThrottle {
  private readonly records = new Map<string, Record>();

  /** Milliseconds to wait before another attempt for any of these keys; 0 when none is blocked. */
  waitMs(keys: string[], now = Date.now()): number {
    let wait = 0;
    for (const key of keys) {
      const record = this.records.get(key);
      if (record && record.blockedUntil > now) wait = Math.max(wait, record.blockedUntil - now);
    }
    return wait;
  }

  failed(keys: string[], now = Date.now()): void {
    for (const key of keys) {
      let record = this.records.get(key);
      if (!record || now - record.first > WINDOW_MS) {
        record = { failures: 0, first: now, blockedUntil: 0 };
        this.records.set(key, record);
      }
      record.failures++;
      const over = record.failures - FREE_FAILURES;
      if (over > 0) record.blockedUntil = now + Math.min(MAX_WAIT_MS, 1000 * 2 ** (over - 1));
    }
    if (this.records.size > 100_000) this.prune(now);
  }

  succeeded(keys: string[]): void {
    for (const key of keys) this.records.delete(key);
  }

  private prune(now: number): void {
    for (const [key, record] of this.records) if (now - record.first > WINDOW_MS && record.blockedUntil <= now) this.records.delete(key);
  }
}

const WINDOW_MS = 15 * 60_000;
const MAX_WAIT_MS = 15 * 60_000;
/** Failures one address may make for one name before its attempts at that name must wait. */
const FREE_PER_PAIR = 5;
/** Failures one address may make across names (spraying) before all its attempts must wait. */
const FREE_PER_ADDRESS = 20;
/** Failures for one name, from anywhere, before its attempts are slowed (never refused). */
const FREE_PER_NAME = 5;
const MAX_DELAY_MS = 5_000;

interface Record {
  failures: number;
  first: number;
  last: number;
}

/** What an attempt must do first: wait out a refusal (429), or be slowed by a delay before it is checked. */
export interface LoginVerdict {
  refuseMs: number;
  delayMs: number;
}

/**
 * Slows password guessing without letting a guesser lock the real user out.
 * Past five failures in a quarter hour for one name from one address, or
 * twenty from one address across names, that address must wait before trying
 * again (doubling from a second to fifteen minutes): those are the guesser's
 * own. Failures for a name from everywhere only slow its attempts down
 * (doubling from a quarter second to five), so its owner, elsewhere, still
 * gets in with the right password. Kept in memory, per replica.
 */
export class LoginThrottle {
  private readonly records = new Map<string, Record>();

  check(name: string, address: string, now = Date.now()): LoginVerdict {
    const refuseMs = Math.max(this.wait(`pair:${name}\0${address}`, FREE_PER_PAIR, now), this.wait(`ip:${address}`, FREE_PER_ADDRESS, now));
    const over = this.over(`name:${name}`, FREE_PER_NAME, now);
    return { refuseMs, delayMs: over > 0 ? Math.min(MAX_DELAY_MS, 250 * 2 ** (over - 1)) : 0 };
  }

  failed(name: string, address: string, now = Date.now()): void {
    for (const key of [`pair:${name}\0${address}`, `ip:${address}`, `name:${name}`]) {
      let record = this.records.get(key);
      if (!record || now - record.first > WINDOW_MS) this.records.set(key, (record = { failures: 0, first: now, last: now }));
      record.failures++;
      record.last = now;
    }
    if (this.records.size > 100_000) this.prune(now);
  }

  succeeded(name: string, address: string): void {
    this.records.delete(`pair:${name}\0${address}`);
    this.records.delete(`name:${name}`);
  }

  /** Failures of `key` past its free ones, in the current window. */
  private over(key: string, free: number, now: number): number {
    const record = this.records.get(key);
    return record && now - record.first <= WINDOW_MS ? record.failures - free : 0;
  }

  /** How long `key` must still wait: from its last failure, doubling with each one past the free ones. */
  private wait(key: string, free: number, now: number): number {
    const over = this.over(key, free, now);
    if (over <= 0) return 0;
    const last = (this.records.get(key) as Record).last;
    return Math.max(0, last + Math.min(MAX_WAIT_MS, 1000 * 2 ** (over - 1)) - now);
  }

  private prune(now: number): void {
    for (const [key, record] of this.records) if (now - record.first > WINDOW_MS) this.records.delete(key);
  }
}

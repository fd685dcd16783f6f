import { Redis } from "ioredis";

/**
 * Counts hits per key in fixed windows. In memory for one replica; in Redis
 * when replicas share their limits. Both pass the same suite (rate-counter.test.ts).
 */
export interface RateCounter {
  /** Counts one hit of `key` in the window holding `now`; returns the window's count so far. */
  hit(key: string, windowMs: number, now: number): number | Promise<number>;
  close(): Promise<void>;
}

const SWEEP_EVERY = 10_000;

export class MemoryRateCounter implements RateCounter {
  private readonly windows = new Map<string, { window: number; count: number; endsAt: number }>();
  private hits = 0;

  hit(key: string, windowMs: number, now: number): number {
    const window = Math.floor(now / windowMs);
    const entry = this.windows.get(key);
    if (++this.hits % SWEEP_EVERY === 0) this.sweep(now);
    if (entry && entry.window === window) return ++entry.count;
    this.windows.set(key, { window, count: 1, endsAt: (window + 1) * windowMs });
    return 1;
  }

  private sweep(now: number): void {
    for (const [key, entry] of this.windows) if (entry.endsAt <= now) this.windows.delete(key);
  }

  async close(): Promise<void> {
    this.windows.clear();
  }
}

export class RedisRateCounter implements RateCounter {
  private readonly redis: Redis;

  constructor(url: string, private readonly prefix = "flotilla:rate:") {
    // Fail fast: a limit that cannot be counted answers at once, it does not hang the request.
    this.redis = new Redis(url, { maxRetriesPerRequest: 1, enableOfflineQueue: true, lazyConnect: false });
    this.redis.on("error", () => undefined);
  }

  async hit(key: string, windowMs: number, now: number): Promise<number> {
    const window = Math.floor(now / windowMs);
    const name = `${this.prefix}${key}:${window}`;
    const results = await this.redis.multi().incr(name).pexpire(name, windowMs * 2).exec();
    const [err, count] = results?.[0] ?? [new Error("no reply from Redis"), 0];
    if (err) throw err;
    return Number(count);
  }

  async close(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}

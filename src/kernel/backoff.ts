/**
 * How a dial-in agent (worker, MCP relay) waits between attempts: doubling
 * from `startMs` to `maxMs`, each wait jittered ±20 % so agents cut off
 * together do not all come back in the same instant.
 */
export class Backoff {
  private delay: number;

  constructor(
    private readonly startMs = 500,
    private readonly maxMs = 30_000,
  ) {
    this.delay = startMs;
  }

  /** The wait before the next attempt. */
  next(): number {
    const wait = this.delay * (0.8 + Math.random() * 0.4);
    this.delay = Math.min(this.delay * 2, this.maxMs);
    return wait;
  }

  /** After a success: the next failure waits the shortest again. */
  reset(): void {
    this.delay = this.startMs;
  }
}

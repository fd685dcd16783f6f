import { createHash, timingSafeEqual } from "node:crypto";

/**
 * Seed 000's rule for what dials in (workers, MCP relays): with a client key
 * configured (FLOTILLA_CLIENT_KEY) the same key must be sent; with none
 * configured, sending one fails, so a misconfigured peer learns at once.
 */
export class ClientKeyCheck {
  private readonly digest: Buffer | undefined;

  /** `what`: who sends it, for the refusal ("the worker", "the relay"). */
  constructor(
    key: string | undefined,
    private readonly what: string,
  ) {
    this.digest = key === undefined ? undefined : sha256(key);
  }

  /** Whether anyone who can reach the port may join. */
  get open(): boolean {
    return this.digest === undefined;
  }

  /** Why `given` is refused, or undefined when it is accepted. */
  problem(given: string | undefined): string | undefined {
    if (this.digest === undefined) return given === undefined ? undefined : `this server has no client key configured, but ${this.what} sent one`;
    if (given === undefined) return "a client_key is required";
    return timingSafeEqual(sha256(given), this.digest) ? undefined : "the client_key is wrong";
  }
}

function sha256(text: string): Buffer {
  return createHash("sha256").update(text).digest();
}

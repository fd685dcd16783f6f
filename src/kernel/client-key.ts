import { SecretMatch } from "./credentials.js";

/**
 * Seed 000's rule for what dials in (workers, MCP relays): with a client key
 * configured (FLOTILLA_CLIENT_KEY) the same key must be sent; with none
 * configured, sending one fails, so a misconfigured peer learns at once.
 */
export class ClientKeyCheck {
  private readonly key: SecretMatch | undefined;

  /** `what`: who sends it, for the refusal ("the worker", "the relay"). */
  constructor(
    key: string | undefined,
    private readonly what: string,
  ) {
    this.key = key === undefined ? undefined : new SecretMatch(key);
  }

  /** Whether anyone who can reach the port may join. */
  get open(): boolean {
    return this.key === undefined;
  }

  /** Why `given` is refused, or undefined when it is accepted. */
  problem(given: string | undefined): string | undefined {
    if (this.key === undefined) return given === undefined ? undefined : `this server has no client key configured, but ${this.what} sent one`;
    if (given === undefined) return "a client_key is required";
    return this.key.matches(given) ? undefined : "the client_key is wrong";
  }
}

import type { IncomingMessage } from "node:http";
import { SecretMatch } from "./credentials.js";

/** Who dialled in: their address, and whether they are on the gateway's own machine. */
export interface DialInPeer {
  address: string;
  /** A loopback connection that no proxy relayed (it carries no forwarding header). */
  local: boolean;
}

const FORWARDING_HEADERS = ["forwarded", "x-forwarded-for", "x-real-ip"];

/**
 * The peer of a WebSocket upgrade. A connection from loopback that carries a
 * forwarding header came through a reverse proxy on this machine, so the one
 * who dialled is somewhere else: it does not count as local.
 */
export function dialInPeer(request: Pick<IncomingMessage, "headers" | "socket">): DialInPeer {
  const address = request.socket.remoteAddress ?? "unknown";
  const relayed = FORWARDING_HEADERS.some((h) => request.headers[h] !== undefined);
  return { address, local: !relayed && isLoopback(address) };
}

function isLoopback(address: string): boolean {
  return address === "::1" || /^(::ffff:)?127\.\d+\.\d+\.\d+$/i.test(address);
}

/**
 * Seed 000's rule for what dials in (workers, MCP relays): with a client key
 * configured (FLOTILLA_CLIENT_KEY) the same key must be sent; with none
 * configured, sending one fails, so a misconfigured peer learns at once. With
 * none, only peers on the gateway's own machine are admitted: otherwise anyone
 * who can reach the port could serve (and read) other users' requests.
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

  /** Why `given`, sent by `peer`, is refused, or undefined when it is accepted. */
  problem(given: string | undefined, peer: DialInPeer): string | undefined {
    if (this.key === undefined) {
      if (given !== undefined) return `this server has no client key configured, but ${this.what} sent one`;
      if (!peer.local) return `this server has no client key configured, so it admits only connections from its own machine: set FLOTILLA_CLIENT_KEY on the gateway and give ${this.what} the same key`;
      return undefined;
    }
    if (given === undefined) return "a client_key is required";
    return this.key.matches(given) ? undefined : "the client_key is wrong";
  }
}

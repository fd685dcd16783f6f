import type { FastifyInstance, FastifyRequest } from "fastify";
import type { Config } from "../config/index.js";
import { callerOf, FlotillaError } from "../kernel/index.js";

/** What one caller may hold at once: requests open, and request body bytes held for them. */
interface InFlightLimits {
  requests: number;
  bodyBytes: number;
}

interface Load {
  requests: number;
  bodyBytes: number;
}

/**
 * One request's share of its caller's load: its place among the caller's open
 * requests, and the body bytes it holds, given back once when it is answered.
 */
export class InFlightShare {
  private bytes = 0;
  private released = false;

  constructor(
    private readonly counter: InFlightCounter,
    private readonly caller: string,
    private readonly load: Load,
    private readonly limits: InFlightLimits,
  ) {}

  /** Takes `n` more body bytes; a FlotillaError (429) when the caller would hold more than they may. */
  holdBytes(n: number): FlotillaError | undefined {
    if (this.released) return undefined;
    if (this.limits.bodyBytes > 0 && this.load.bodyBytes + n > this.limits.bodyBytes) {
      return new FlotillaError("rate_limited", `this caller's requests already hold ${this.load.bodyBytes} body bytes, and may hold at most ${this.limits.bodyBytes} at once (limits.body_bytes_in_flight_per_key)`, {
        headers: { "retry-after": "1" },
      });
    }
    this.bytes += n;
    this.load.bodyBytes += n;
    return undefined;
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    this.load.requests--;
    this.load.bodyBytes -= this.bytes;
    this.counter.settle(this.caller, this.load);
  }
}

/** Each caller's open requests and held body bytes, in this replica. */
class InFlightCounter {
  private readonly loads = new Map<string, Load>();

  /** A share for one more request of `caller`, or the 429 that refuses it. */
  enter(caller: string, limits: InFlightLimits): InFlightShare | FlotillaError {
    let load = this.loads.get(caller);
    if (!load) this.loads.set(caller, (load = { requests: 0, bodyBytes: 0 }));
    if (limits.requests > 0 && load.requests >= limits.requests) {
      return new FlotillaError("rate_limited", `this caller has ${load.requests} requests open, the most it may have at once (limits.requests_in_flight_per_key)`, {
        headers: { "retry-after": "1" },
      });
    }
    load.requests++;
    return new InFlightShare(this, caller, load, limits);
  }

  settle(caller: string, load: Load): void {
    if (load.requests === 0 && this.loads.get(caller) === load) this.loads.delete(caller);
  }
}

declare module "fastify" {
  interface FastifyRequest {
    /** This request's share of its caller's in-flight limits; the body parser holds its bytes there. */
    inFlight?: InFlightShare;
  }
}

/**
 * Caps what one caller may have open at once, so one key's hundred streams or
 * a few huge bodies cannot take the gateway's memory or every server slot from
 * everyone else. Runs after authentication; the gateway's own task runner is
 * bounded by `task_runner.max_running` instead.
 */
export function registerInFlightLimits(app: FastifyInstance, limits: Readonly<Config["limits"]>, auth: Readonly<Config["auth"]>): void {
  const guests = auth.guest_limits;
  const counter = new InFlightCounter();
  const forCallers: InFlightLimits = { requests: limits.requests_in_flight_per_key, bodyBytes: limits.body_bytes_in_flight_per_key };
  const forGuests: InFlightLimits = {
    requests: limits.requests_in_flight_per_key > 0 ? Math.min(guests.requests_in_flight, limits.requests_in_flight_per_key) : guests.requests_in_flight,
    bodyBytes: limits.body_bytes_in_flight_per_key,
  };
  // Guests, when there are any, are always held to their own limit.
  if (forCallers.requests === 0 && forCallers.bodyBytes === 0 && !auth.guests) return;
  app.addHook("onRequest", function limitInFlight(req, reply, done) {
    const principal = req.principal;
    if (principal?.forTask) return done();
    const share = counter.enter(callerOf(principal, req.ip), principal?.role === "guest" ? forGuests : forCallers);
    if (share instanceof FlotillaError) return done(share);
    req.inFlight = share;
    // On the raw response: proxied answers are written past Fastify's reply (hijacked).
    const release = () => share.release();
    reply.raw.once("close", release).once("finish", release);
    done();
  });
}

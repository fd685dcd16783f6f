import type { IncomingHttpHeaders } from "node:http";
import { isIP } from "node:net";
import type { FastifyInstance } from "fastify";
import { FlotillaError } from "../kernel/index.js";

/**
 * Where a request may come from, as a browser tells it. A page on another site
 * can make the browser send requests here — a form post (CSRF), or, after
 * re-pointing its own name at this address (DNS rebinding), anything — and the
 * gateway answers no CORS, so no such page has a reason to. So:
 * - a request whose `Origin` is not the gateway's own (the `Host` it was sent
 *   to) is refused, unless `auth.allowed_origins` lists it;
 * - a gateway listening on loopback answers only requests addressed to it by a
 *   loopback name, and any gateway only those addressed by `allowed_hosts` when
 *   that is set: a rebound name never reaches it.
 * Clients that are not browsers send no `Origin`, and name the host they dial.
 */
export class RequestOrigins {
  private readonly hosts: Set<string> | undefined;

  constructor(
    private readonly allowedOrigins: readonly string[],
    /** Host names a request may be addressed to; undefined: any. */
    allowedHosts: readonly string[] | undefined,
  ) {
    this.hosts = allowedHosts && new Set(allowedHosts.map((h) => h.toLowerCase()));
  }

  /** The 403 that refuses a request with these headers, or undefined. */
  problem(headers: IncomingHttpHeaders): FlotillaError | undefined {
    const host = headers.host;
    if (this.hosts && host !== undefined && !this.hostAllowed(host)) {
      return new FlotillaError("forbidden", `this gateway answers only requests addressed to ${[...this.hosts].join(", ")}, not to "${host}" (allowed_hosts)`);
    }
    const origin = headers.origin;
    if (origin === undefined || this.allowedOrigins.includes(origin)) return undefined;
    if (host !== undefined && originHost(origin) === host.toLowerCase()) return undefined;
    return new FlotillaError("forbidden", `requests from pages on another origin (${origin}) are refused; auth.allowed_origins lists the ones allowed`);
  }

  private hostAllowed(host: string): boolean {
    const name = hostName(host);
    return (this.hosts as Set<string>).has(name) || (this.hosts?.has("localhost") === true && isLoopbackAddress(name));
  }
}

/** The hosts a gateway listening on `listenHost` answers by default: loopback names only when it listens on loopback, else any. */
export function defaultAllowedHosts(listenHost: string): string[] | undefined {
  return listenHost === "localhost" || isLoopbackAddress(listenHost) ? ["localhost", "127.0.0.1", "[::1]"] : undefined;
}

/** `Host` without its port, lower case (`[::1]:8080` → `[::1]`). */
function hostName(host: string): string {
  const lower = host.toLowerCase();
  return lower.startsWith("[") ? lower.slice(0, lower.indexOf("]") + 1) : lower.replace(/:\d*$/, "");
}

function isLoopbackAddress(name: string): boolean {
  const bare = name.replace(/^\[|\]$/g, "");
  return bare === "::1" || (isIP(bare) === 4 && bare.startsWith("127."));
}

function originHost(origin: string): string | undefined {
  try {
    return new URL(origin).host.toLowerCase();
  } catch {
    return undefined;
  }
}

/** Refuses, first of all, what a page elsewhere made a browser send. */
export function registerOriginGuard(app: FastifyInstance, origins: RequestOrigins): void {
  app.addHook("onRequest", function checkOrigin(req, _reply, done) {
    done(origins.problem(req.headers));
  });
}

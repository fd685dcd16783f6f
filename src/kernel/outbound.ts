import { lookup as dnsLookup, type LookupAddress } from "node:dns";
import { isIP, type LookupFunction } from "node:net";
import { Agent, buildConnector, fetch, type Dispatcher, type Response } from "undici";
import { internalAddressKind } from "./internal-address.js";
import { OutboundAllowList } from "./outbound-allow.js";

/** What the operator lets user-given URLs reach beyond the public internet. */
export interface OutboundPolicy {
  /** Any internal address (a gateway on a private network delivering to its neighbours). */
  allowPrivate: boolean;
  /** Host names, addresses and CIDRs reachable although internal. */
  allow: readonly string[];
}

/** A request the gateway makes to a URL; the body, if any, is sent once (it is never re-sent to a redirect). */
export interface OutboundRequest {
  method?: string;
  headers?: Record<string, string>;
  body?: string | Uint8Array;
  signal?: AbortSignal;
}

export interface OutboundLimits {
  /** The whole exchange, redirects and body included. */
  timeoutMs: number;
  /** The most of an answer's body that is read, a longer one failing the fetch; without it the body is dropped unread (a webhook's receiver has nothing to say but its status). */
  maxBytes?: number;
  /** Redirects followed, for GET and HEAD only, each hop checked as the first; 0 (the default): a redirect is the answer. */
  maxRedirects?: number;
}

export interface OutboundAnswer {
  status: number;
  headers: Headers;
  /** The URL that answered, after any redirects. */
  url: string;
  body: Uint8Array;
}

/** A fetch that was refused, too large or too slow; its message says which. */
export class OutboundError extends Error {
  readonly code = "EOUTBOUND";
}

const RESOLVE_TIMEOUT_MS = 5_000;
const CONNECT_TIMEOUT_MS = 10_000;
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
const ALLOW_HINT = "(outbound.allow or outbound.allow_private lets an operator allow it)";

/** Why `url` cannot be fetched as given, or undefined: http or https, a host, no user name or password. */
export function urlShapeProblem(url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return `"${url}" is not a URL`;
  }
  if ((parsed.protocol !== "http:" && parsed.protocol !== "https:") || !parsed.hostname) return `"${url}" is not an http or https URL with a host`;
  if (parsed.username || parsed.password) return "the URL may not carry a user name or password";
  return undefined;
}

/**
 * The one way the gateway reaches a URL a user gave (task and user webhooks,
 * and whatever else fetches on a user's word): not its own machine, its
 * private network, link-local or cloud metadata addresses, unless the
 * operator allows them. `urlProblem` answers when the URL is given; every
 * connection made through `fetch` or `dispatcher` is checked again against
 * the address it actually goes to, so a name that resolves elsewhere later
 * (DNS rebinding) or a redirect gains nothing.
 */
export class OutboundGuard {
  /** An undici dispatcher that refuses, at each connection, an address the policy does not allow. */
  readonly dispatcher: Agent;
  private readonly allow: OutboundAllowList;

  constructor(private readonly policy: OutboundPolicy) {
    this.allow = new OutboundAllowList(policy.allow);
    const connect = buildConnector({ lookup: this.lookup, timeout: CONNECT_TIMEOUT_MS });
    this.dispatcher = new Agent({
      // Node connects to an IP-literal host without a lookup: such a host is checked here, before connecting.
      connect: (options, callback) => {
        const host = options.hostname.replace(/^\[|\]$/g, "");
        const refused = isIP(host) ? this.addressProblem(host, host) : undefined;
        if (refused) return callback(new OutboundError(`refused: ${refused}`), null);
        connect(options, callback);
      },
    });
  }

  /** Why the gateway may not reach `address` (what `host` resolved to), or undefined. */
  private addressProblem(address: string, host: string): string | undefined {
    if (this.policy.allowPrivate || this.allow.allowsHost(host) || this.allow.allowsAddress(address)) return undefined;
    const kind = internalAddressKind(address);
    if (!kind) return undefined;
    const name = host.replace(/^\[|\]$/g, "");
    return `${name === address ? `${address} is` : `${name} resolves to ${address},`} ${kind} ${ALLOW_HINT}`;
  }

  /** Why `url` may not be given to the gateway to fetch, or undefined; its host is resolved now. */
  async urlProblem(url: string): Promise<string | undefined> {
    const shape = urlShapeProblem(url);
    if (shape) return shape;
    const host = new URL(url).hostname.replace(/^\[|\]$/g, "");
    if (this.policy.allowPrivate || this.allow.allowsHost(host)) return undefined;
    let addresses: string[];
    try {
      addresses = isIP(host) ? [host] : (await resolveAll(host)).map((a) => a.address);
    } catch (err) {
      return `${host} does not resolve: ${(err as Error).message}`;
    }
    return addresses.map((address) => this.addressProblem(address, host)).find(Boolean);
  }

  /** `boundedFetch` through this guard. */
  fetch(url: string, request: OutboundRequest, limits: OutboundLimits): Promise<OutboundAnswer> {
    return boundedFetch(url, request, { ...limits, dispatcher: this.dispatcher });
  }

  close(): Promise<void> {
    return this.dispatcher.close();
  }

  /** A DNS lookup that fails when any address of the name is one the policy does not allow. */
  private readonly lookup: LookupFunction = (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, "", 0);
      const refused = addresses.length === 0 ? `${hostname} has no address` : addresses.map((a) => this.addressProblem(a.address, hostname)).find(Boolean);
      if (refused) return callback(new OutboundError(`refused: ${refused}`), "", 0);
      if (options.all) return (callback as unknown as (e: null, all: LookupAddress[]) => void)(null, addresses);
      callback(null, addresses[0].address, addresses[0].family);
    });
  };
}

/**
 * A fetch bounded in time (`timeoutMs` for everything) and in what it reads
 * (`maxBytes`), following redirects only as `maxRedirects` says. Through an
 * `OutboundGuard` for any URL a user gave; alone only for the operator's own
 * URLs (from the configuration).
 */
export async function boundedFetch(url: string, request: OutboundRequest, limits: OutboundLimits & { dispatcher?: Dispatcher }): Promise<OutboundAnswer> {
  const timeout = AbortSignal.timeout(limits.timeoutMs);
  const signal = request.signal ? AbortSignal.any([request.signal, timeout]) : timeout;
  const method = request.method ?? "GET";
  const follows = method === "GET" || method === "HEAD" ? (limits.maxRedirects ?? 0) : 0;
  let current = url;
  try {
    for (let hop = 0; ; hop++) {
      const shape = urlShapeProblem(current);
      if (shape) throw new OutboundError(hop === 0 ? shape : `redirected to a URL that is refused: ${shape}`);
      const res = await fetch(current, { method, headers: request.headers, body: request.body, redirect: "manual", signal, dispatcher: limits.dispatcher });
      const location = REDIRECT_STATUSES.has(res.status) ? res.headers.get("location") : null;
      if (location === null || follows === 0) {
        if (limits.maxBytes === undefined) await res.body?.cancel();
        const body = limits.maxBytes === undefined ? new Uint8Array() : await readAtMost(res, limits.maxBytes);
        return { status: res.status, headers: res.headers, url: current, body };
      }
      await res.body?.cancel();
      if (hop >= follows) throw new OutboundError(`more than ${follows} redirects`);
      current = new URL(location, current).href;
    }
  } catch (err) {
    if (timeout.aborted) throw new OutboundError(`no answer within ${limits.timeoutMs} ms`);
    const cause = (err as { cause?: unknown }).cause;
    throw err instanceof TypeError && cause instanceof Error ? cause : err;
  }
}

async function readAtMost(res: Response, maxBytes: number): Promise<Uint8Array> {
  if (!res.body) return new Uint8Array();
  const tooLarge = () => new OutboundError(`the answer is larger than ${maxBytes} bytes`);
  if (Number(res.headers.get("content-length")) > maxBytes) {
    await res.body.cancel();
    throw tooLarge();
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of res.body) {
    size += chunk.byteLength;
    if (size > maxBytes) throw tooLarge();
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

function resolveAll(host: string): Promise<LookupAddress[]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no answer in ${RESOLVE_TIMEOUT_MS} ms`)), RESOLVE_TIMEOUT_MS);
    dnsLookup(host, { all: true }, (err, found) => {
      clearTimeout(timer);
      if (err) reject(err);
      else resolve(found);
    });
  });
}

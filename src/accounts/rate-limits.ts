import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { Config } from "../config/index.js";
import { type AuthLevel, FlotillaError, type Principal } from "../kernel/index.js";
import type { Store } from "../store/index.js";
import type { RateCounter } from "./rate-counter.js";

type LimitsConfig = Config["auth"]["rate_limits"];
type Limit = LimitsConfig["inference"];
type LimitClass = keyof LimitsConfig;

/** Seed 003's classes: inference and admin routes apart; every other signed-in route is standard. */
const CLASS_OF: Record<AuthLevel, LimitClass | undefined> = {
  public: undefined,
  inference: "inference",
  admin: "admin",
  user: "standard",
  member: "standard",
  owner: "standard",
};

/** A key's daily spend is re-read from the usage records after this long. */
const SPENT_TTL_MS = 2_000;

/** Tokens (in + out) each key used today (UTC), from the usage records, briefly cached. */
export class TokenBudgets {
  private readonly spent = new Map<string, { day: string; at: number; tokens: number }>();

  constructor(private readonly store: Store) {}

  spentToday(keyId: string, now = Date.now()): number | Promise<number> {
    const day = new Date(now).toISOString().slice(0, 10);
    const cached = this.spent.get(keyId);
    if (cached && cached.day === day && now - cached.at < SPENT_TTL_MS) return cached.tokens;
    return this.store.audit.usage({ sinceDay: day, keyId }).then((rows) => {
      const tokens = rows.reduce((sum, r) => sum + r.tokens_in + r.tokens_out, 0);
      this.spent.set(keyId, { day, at: now, tokens });
      return tokens;
    });
  }
}

interface Bucket {
  key: string;
  limit: number;
  windowMs: number;
}

/** A guest's requests per minute, on every route they may call. */
const GUEST_WINDOW_MS = 60_000;

function buckets(cls: LimitClass, limit: Limit, principal: Principal, guestPerMinute: number): Bucket[] {
  const found: Bucket[] = [];
  if (limit.per_key > 0 && principal.keyId) found.push({ key: `${cls}:key:${principal.keyId}`, limit: limit.per_key, windowMs: limit.window_ms });
  if (limit.per_user > 0 && principal.userId) found.push({ key: `${cls}:user:${principal.userId}`, limit: limit.per_user, windowMs: limit.window_ms });
  if (principal.role === "guest" && guestPerMinute > 0 && principal.userId) found.push({ key: `guest:${principal.userId}`, limit: guestPerMinute, windowMs: GUEST_WINDOW_MS });
  return found;
}

function secondsUntilMidnightUtc(now: number): number {
  const midnight = new Date(now);
  midnight.setUTCHours(24, 0, 0, 0);
  return Math.ceil((midnight.getTime() - now) / 1000);
}

/**
 * Per key and per user limits with X-RateLimit-* headers and 429 past them,
 * and per-key daily token budgets. Runs after authentication; a route with no
 * limit configured and a key with no budget cost two property reads.
 */
export class RateLimits {
  constructor(
    private readonly config: LimitsConfig,
    /** `auth.guest_limits.requests_per_minute`: every guest's own limit, beside the classes'. */
    private readonly guestPerMinute: number,
    private readonly counter: RateCounter,
    private readonly budgets: TokenBudgets,
    private readonly onCounterError: (err: unknown) => void,
  ) {}

  check(req: FastifyRequest, reply: FastifyReply): FlotillaError | undefined | Promise<FlotillaError | undefined> {
    const principal = req.principal;
    const cls = CLASS_OF[req.routeOptions.config.auth ?? "public"];
    if (!principal || !cls) return undefined;
    const found = principal.forTask ? [] : buckets(cls, this.config[cls], principal, this.guestPerMinute);
    const budget = cls === "inference" && principal.keyId && principal.dailyTokenBudget ? principal.dailyTokenBudget : undefined;
    if (found.length === 0 && budget === undefined) return undefined;
    const now = Date.now();
    const limited = found.length > 0 ? this.count(found, now, reply) : undefined;
    const overBudget = () => (budget === undefined ? undefined : this.checkBudget(principal.keyId as string, budget, now));
    if (limited instanceof Promise) return limited.then((err) => err ?? overBudget());
    return limited ?? overBudget();
  }

  private count(found: Bucket[], now: number, reply: FastifyReply): FlotillaError | undefined | Promise<FlotillaError | undefined> {
    const counts = found.map((b) => this.counter.hit(b.key, b.windowMs, now));
    const settle = (values: number[]) => {
      let tightest = 0;
      for (let i = 1; i < found.length; i++) if (found[i].limit - values[i] < found[tightest].limit - values[tightest]) tightest = i;
      const { limit, windowMs } = found[tightest];
      const resetAt = (Math.floor(now / windowMs) + 1) * windowMs;
      const headers = {
        "x-ratelimit-limit": String(limit),
        "x-ratelimit-remaining": String(Math.max(0, limit - values[tightest])),
        "x-ratelimit-reset": String(Math.ceil(resetAt / 1000)),
      };
      // On the raw response: proxied answers are written past Fastify's reply (hijacked), and Node merges these in.
      for (const [name, value] of Object.entries(headers)) reply.raw.setHeader(name, value);
      if (values.every((v, i) => v <= found[i].limit)) return undefined;
      const retryAfter = String(Math.max(1, Math.ceil((resetAt - now) / 1000)));
      return new FlotillaError("rate_limited", `rate limit reached: ${limit} requests per ${windowMs / 1000} s; try again in ${retryAfter} s`, {
        headers: { ...headers, "retry-after": retryAfter },
      });
    };
    if (!counts.some((c) => c instanceof Promise)) return settle(counts as number[]);
    // A limit that cannot be counted (Redis down) lets the request through rather than refusing everyone.
    return Promise.all(counts).then(settle, (err: unknown) => {
      this.onCounterError(err);
      return undefined;
    });
  }

  private checkBudget(keyId: string, budget: number, now: number): FlotillaError | undefined | Promise<FlotillaError | undefined> {
    const judge = (spent: number) =>
      spent < budget
        ? undefined
        : new FlotillaError("rate_limited", `this API key's daily budget of ${budget} tokens is used up (${spent} used); it renews at 00:00 UTC`, {
            headers: { "retry-after": String(secondsUntilMidnightUtc(now)) },
          });
    const spent = this.budgets.spentToday(keyId, now);
    return spent instanceof Promise ? spent.then(judge) : judge(spent);
  }
}

export function registerRateLimits(app: FastifyInstance, limits: RateLimits): void {
  app.addHook("onRequest", function rateLimit(req, reply, done) {
    const result = limits.check(req, reply);
    if (result instanceof Promise) result.then(done, done);
    else done(result);
  });
}

/** Whether any limit is configured at all (else no counter is needed); guests count only where they may sign in. */
export function anyLimit(config: Readonly<Config["auth"]>): boolean {
  return Object.values(config.rate_limits).some((l) => l.per_key > 0 || l.per_user > 0) || (config.guests && config.guest_limits.requests_per_minute > 0);
}

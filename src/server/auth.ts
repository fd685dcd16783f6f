import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { FlotillaError } from "./errors.js";

/**
 * Who may call a route. Declared on every route (`config.auth`); a route
 * registered without it fails at start, so none can forget.
 * - public: anyone
 * - inference: an API key, or anyone when `auth.proxy: open`
 * - admin: an admin key, always
 */
export type AuthLevel = "public" | "inference" | "admin";

export interface Principal {
  keyId: string;
  role: "admin" | "user";
}

export interface KeyRecord {
  id: string;
  hash: string;
  role: "admin" | "user";
  expires_at: number | null;
  revoked_at: number | null;
}

declare module "fastify" {
  interface FastifyContextConfig {
    auth?: AuthLevel;
  }
  interface FastifyRequest {
    principal?: Principal;
  }
}

export function hashKey(key: string): string {
  return createHash("sha256").update(key).digest("hex");
}

export function generateKey(): string {
  return `flt_${randomBytes(24).toString("base64url")}`;
}

/** The hashes of valid keys, held in memory so no request waits on the database. */
export class Keyring {
  private readonly byHash = new Map<string, KeyRecord>();
  /** Key ids used since the last drain, for a batched last_used_at update. */
  readonly used = new Set<string>();

  load(records: KeyRecord[]): void {
    this.byHash.clear();
    for (const r of records) this.byHash.set(r.hash, r);
  }

  add(record: KeyRecord): void {
    this.byHash.set(record.hash, record);
  }

  verify(token: string): Principal | undefined {
    const hash = hashKey(token);
    const record = this.byHash.get(hash);
    if (!record || !sameHash(record.hash, hash)) return undefined;
    if (record.revoked_at !== null || (record.expires_at !== null && record.expires_at <= Date.now())) return undefined;
    this.used.add(record.id);
    return { keyId: record.id, role: record.role };
  }
}

function sameHash(a: string, b: string): boolean {
  return a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));
}

/** `Authorization: Bearer K`, or seed 004's `X-Ollama-Api-Key: K`. */
export function presentedKey(req: FastifyRequest): string | undefined {
  const header = req.headers.authorization;
  if (header && header.length > 7 && header.slice(0, 7).toLowerCase() === "bearer ") return header.slice(7).trim();
  const alt = req.headers["x-ollama-api-key"];
  return typeof alt === "string" && alt ? alt : undefined;
}

const SWAGGER_UI_PREFIX = "/api/client";

/** Sets req.principal from the presented key; returns the error that refuses the request, if any. */
function authorize(req: FastifyRequest, keyring: Keyring, proxyMode: "key" | "open"): FlotillaError | undefined {
  const level = req.routeOptions.config.auth ?? "public";
  if (level === "public") return undefined;
  const token = presentedKey(req);
  const principal = token === undefined ? undefined : keyring.verify(token);
  if (principal) req.principal = principal;
  if (level === "inference" ? principal || proxyMode === "open" : principal?.role === "admin") return undefined;
  if (!token) return new FlotillaError("unauthorized", "an API key is required: send Authorization: Bearer <key>");
  if (!principal) return new FlotillaError("unauthorized", "the API key is not valid");
  return new FlotillaError("forbidden", "this endpoint needs an admin key");
}

export function registerAuth(app: FastifyInstance, keyring: Keyring, proxyMode: "key" | "open"): void {
  app.addHook("onRoute", (route) => {
    const config = (route.config ?? {}) as { auth?: AuthLevel };
    if (config.auth) return;
    if (route.url.startsWith(SWAGGER_UI_PREFIX)) {
      route.config = { ...config, auth: "public" };
      return;
    }
    throw new Error(`route ${route.method} ${route.url} declares no auth level`);
  });

  // A callback hook, not an async one: it runs on every request and needs no await.
  app.addHook("onRequest", function authenticate(req, _reply, done) {
    done(authorize(req, keyring, proxyMode));
  });
}

import type { FastifyRequest } from "fastify";

/**
 * Who may call a route. Declared on every route (`config.auth`); a route
 * registered without it fails at start, so none can forget.
 * - public: anyone
 * - inference: a key with the `inference` scope, a session or an access token; anyone when `auth.proxy: open`
 * - user: anyone signed in (a key, a session, an access token), guests included
 * - member: signed in, and not a guest
 * - owner: signed in, and the addressed resource is theirs (`config.owner` says whose it is); others get 404
 * - admin: an admin, by session, access token, or a key with the `admin` scope
 */
export type AuthLevel = "public" | "inference" | "user" | "member" | "owner" | "admin";

export type Role = "admin" | "user" | "guest";
export type Scope = "inference" | "admin";

/** Who is asking: by an API key (keyId, scopes), a login session or access token (sessionId), or nobody known for the open proxy. */
export interface Principal {
  role: Role;
  via: "key" | "session" | "token";
  keyId?: string;
  userId?: string;
  sessionId?: string;
  /** A key's scopes; sessions and access tokens act with all of their role's. */
  scopes?: readonly Scope[];
  /** A key's tokens per UTC day, when it has a budget. */
  dailyTokenBudget?: number;
  /** The gateway running a queued task for this key: its budget applies; its request limits were counted when the task was queued. */
  forTask?: boolean;
}

/** The gateway's own key for the tasks it runs; with TASK_KEY_HEADER it acts as the key that queued the task. */
export const TASK_RUNNER_KEY_ID = "key_task_runner";
export const TASK_KEY_HEADER = "x-flotilla-task-key";

/** A value, or the promise of one when it must be read first. */
export type Maybe<T> = T | undefined | Promise<T | undefined>;

/** Resolves the credentials that are not API keys: the session cookie and access tokens. */
export interface CredentialResolver {
  cookieToken(req: WithHeaders): string | undefined;
  session(token: string): Maybe<Principal>;
  /** Whether a bearer token is an access token rather than an API key. */
  isAccessToken(token: string): boolean;
  accessToken(token: string): Maybe<Principal>;
}

/** Whose the resource a request addresses is (a user id), or undefined when there is none. */
export type OwnerOf = (req: FastifyRequest) => Promise<string | null | undefined>;

declare module "fastify" {
  interface FastifyContextConfig {
    auth?: AuthLevel;
    owner?: OwnerOf;
    /** On a public route: recognise a caller who sends credentials (req.principal), never refusing one who does not. */
    identify?: boolean;
    /** false: guests are refused here although the auth level lets them in (work that outlives the request, such as queued tasks). */
    guests?: false;
  }
  interface FastifyRequest {
    principal?: Principal;
  }
}

/** What credentials are read from: a Fastify request, or a raw one (a WebSocket upgrade). */
export type WithHeaders = Pick<FastifyRequest, "headers">;

/** Who owns what a caller makes (webhooks, stored responses): its user, or its key when the key has none (the configured admin key). */
export function ownerOf(principal: Principal | undefined): string | undefined {
  if (principal?.userId) return principal.userId;
  if (principal?.keyId) return `key:${principal.keyId}`;
  return undefined;
}

/** Whom a request counts against for fairness and in-flight limits: its key, else its user, else its address. */
export function callerOf(principal: Principal | undefined, address: string): string {
  if (principal?.keyId) return `key:${principal.keyId}`;
  if (principal?.userId) return `user:${principal.userId}`;
  return `ip:${address}`;
}

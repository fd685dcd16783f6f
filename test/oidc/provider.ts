// A real OpenID Connect provider (the `oidc-provider` package) on a free loopback port, for end-to-end
// tests of OIDC login without a mock, plus a tiny scripted "browser" that signs a user in at it.
//
// Login and consent are handled by small interaction pages of our own (via provider.interactionDetails /
// interactionFinished, the provider's documented API) rather than its devInteractions, which are
// development-only, print warnings, and whose HTML is not a stable interface. The pages use the same
// form fields as devInteractions (`prompt`, `login`, `password`), and signInAtProvider reads whatever
// form a page renders, so it works with either.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { generateKeyPair, randomBytes, randomUUID, type JsonWebKey } from "node:crypto";
import { once } from "node:events";
import type { AddressInfo } from "node:net";
import type { Adapter, AdapterPayload, Configuration, JWK } from "oidc-provider";

export interface TestAccount {
  email?: string;
  email_verified?: boolean;
  name?: string;
  preferred_username?: string;
}

export interface TestProvider {
  /** e.g. http://127.0.0.1:PORT (no trailing slash); discovery is at `${issuer}/.well-known/openid-configuration`. */
  issuer: string;
  clientId: string;
  clientSecret: string;
  close(): Promise<void>;
}

export interface StartOidcProviderOptions {
  /** Exact redirect URIs registered for the client. */
  redirectUris: string[];
  /**
   * Claims per account id (= `sub` = the `login` typed at sign-in). Any id signs in; missing fields
   * default to email `${sub}@example.test`, email_verified true, name and preferred_username `${sub}`.
   * Set a field to `undefined` explicitly to leave that claim out.
   */
  accounts?: Record<string, TestAccount>;
  /** How the client authenticates at the token endpoint. Default client_secret_basic. */
  tokenEndpointAuthMethod?: "client_secret_basic" | "client_secret_post";
  /** Reject authorization requests without PKCE (S256). Default false: PKCE is accepted, not required. */
  requirePkce?: boolean;
}

export const TEST_CLIENT_ID = "flotilla-test";

type OidcProviderModule = typeof import("oidc-provider");
let loaded: Promise<OidcProviderModule> | undefined;

/** Imports oidc-provider, dropping its one-off "Unsupported runtime" warning on Node 20 (it wants 22+ LTS but runs). */
function loadOidcProvider(): Promise<OidcProviderModule> {
  loaded ??= (async () => {
    const warn = console.warn;
    console.warn = (...args: unknown[]) => {
      if (typeof args[0] === "string" && args[0].startsWith("oidc-provider WARNING: Unsupported runtime")) return;
      warn.apply(console, args);
    };
    try {
      return await import("oidc-provider");
    } finally {
      console.warn = warn;
    }
  })();
  return loaded;
}

/** Origins of running providers: redirects to these are followed by signInAtProvider. */
const providerOrigins = new Set<string>();

export async function startOidcProvider(options: StartOidcProviderOptions): Promise<TestProvider> {
  const { default: Provider } = await loadOidcProvider();
  const accounts = options.accounts ?? {};
  const clientSecret = randomBytes(24).toString("base64url");

  // The issuer must carry the real port, so listen first and attach the provider afterwards.
  let handler: ((req: IncomingMessage, res: ServerResponse) => void) | undefined;
  const server = createServer((req, res) => {
    if (handler) handler(req, res);
    else res.writeHead(503).end();
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  const issuer = `http://127.0.0.1:${port}`;

  const configuration: Configuration = {
    clients: [
      {
        client_id: TEST_CLIENT_ID,
        client_secret: clientSecret,
        redirect_uris: options.redirectUris,
        grant_types: ["authorization_code"],
        response_types: ["code"],
        token_endpoint_auth_method: options.tokenEndpointAuthMethod ?? "client_secret_basic",
      },
    ],
    claims: {
      openid: ["sub"],
      email: ["email", "email_verified"],
      profile: ["name", "preferred_username"],
    },
    // Like most real providers, put the scope claims (email, name, ...) in the id_token too, not only at userinfo.
    conformIdTokenClaims: false,
    async findAccount(_ctx, sub) {
      const claims = { sub, ...defaultAccount(sub), ...accounts[sub] };
      return { accountId: sub, claims: () => claims };
    },
    pkce: { required: () => options.requirePkce ?? false },
    features: { devInteractions: { enabled: false } },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    // Our own keys, cookie keys and store: the built-in defaults each print a "development-only" warning.
    jwks: { keys: [await signingKey()] },
    cookies: { keys: [randomBytes(32).toString("hex")] },
    adapter: memoryAdapter(),
    ttl: { AccessToken: 3600, AuthorizationCode: 60, IdToken: 3600, Interaction: 600, Session: 3600, Grant: 3600, RefreshToken: 86400 },
    clientBasedCORS: () => true,
    async renderError(ctx, out) {
      ctx.type = "text/plain";
      ctx.body = Object.entries(out).map(([k, v]) => `${k}: ${String(v)}`).join("\n");
    },
  };
  const provider = new Provider(issuer, configuration);
  const callback = provider.callback();

  async function interaction(req: IncomingMessage, res: ServerResponse, uid: string): Promise<void> {
    const details = await provider.interactionDetails(req, res);
    if (details.uid !== uid) return text(res, 400, "interaction uid does not match the interaction cookie");
    const prompt = details.prompt.name;

    if (req.method === "GET") {
      if (prompt !== "login" && prompt !== "consent") return text(res, 501, `prompt ${prompt} not implemented`);
      const fields = prompt === "login"
        ? `<input type="text" name="login" required><input type="password" name="password">`
        : `<p>Allow ${html(String(details.params.client_id))} access to ${html(String(details.params.scope))}?</p>`;
      res.writeHead(200, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" });
      res.end(`<!DOCTYPE html><html><body><form method="post" action="/interaction/${html(uid)}">`
        + `<input type="hidden" name="prompt" value="${prompt}">${fields}<button type="submit">Continue</button></form></body></html>`);
      return;
    }
    if (req.method !== "POST") return text(res, 405, "method not allowed");

    const form = new URLSearchParams(await readBody(req));
    if (form.get("prompt") !== prompt) return text(res, 400, `expected a ${prompt} submission, got ${form.get("prompt")}`);
    if (prompt === "login") {
      const accountId = form.get("login");
      if (!accountId) return text(res, 400, "login is required");
      await provider.interactionFinished(req, res, { login: { accountId } }, { mergeWithLastSubmission: false });
      return;
    }
    if (prompt === "consent") {
      const { session, params, grantId } = details;
      const grant = (grantId ? await provider.Grant.find(grantId) : undefined)
        ?? new provider.Grant({ accountId: session?.accountId, clientId: String(params.client_id) });
      const missing = details.prompt.details as {
        missingOIDCScope?: string[];
        missingOIDCClaims?: string[];
        missingResourceScopes?: Record<string, string[]>;
      };
      if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(" "));
      if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
      for (const [resource, scopes] of Object.entries(missing.missingResourceScopes ?? {})) {
        grant.addResourceScope(resource, scopes.join(" "));
      }
      await provider.interactionFinished(req, res, { consent: { grantId: await grant.save() } }, { mergeWithLastSubmission: true });
      return;
    }
    text(res, 501, `prompt ${prompt} not implemented`);
  }

  handler = (req, res) => {
    const match = /^\/interaction\/([^/?]+)(?:\?|$)/.exec(req.url ?? "");
    if (!match) {
      callback(req, res);
      return;
    }
    interaction(req, res, decodeURIComponent(match[1])).catch((error: unknown) => {
      if (res.headersSent) res.destroy();
      else text(res, 500, `interaction failed: ${error instanceof Error ? error.stack ?? error.message : String(error)}`);
    });
  };

  const origin = new URL(issuer).origin;
  providerOrigins.add(origin);
  let closed: Promise<void> | undefined;
  return {
    issuer,
    clientId: TEST_CLIENT_ID,
    clientSecret,
    close() {
      closed ??= new Promise<void>((resolve, reject) => {
        providerOrigins.delete(origin);
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      });
      return closed;
    },
  };
}

/**
 * Acts as the user's browser: GETs `authorizationUrl` (the provider's authorization endpoint URL our gateway built),
 * follows the provider's own redirects with a cookie jar, submits the login interaction as `login` (the account id / subject)
 * and the consent interaction, and stops at the first redirect whose target is NOT on the provider (that is the
 * redirect to the client's callback with ?code=&state=). Returns that URL unfollowed.
 */
export async function signInAtProvider(authorizationUrl: string, login: string): Promise<URL> {
  const start = new URL(authorizationUrl);
  const onProvider = (url: URL) => url.origin === start.origin || providerOrigins.has(url.origin);
  const jar = new Map<string, string>();
  let request: { url: URL; method: string; body?: string } = { url: start, method: "GET" };

  for (let step = 0; step < 20; step++) {
    const headers: Record<string, string> = {};
    if (jar.size) headers.cookie = [...jar].map(([name, value]) => `${name}=${value}`).join("; ");
    if (request.body !== undefined) headers["content-type"] = "application/x-www-form-urlencoded";
    const res = await fetch(request.url, { method: request.method, headers, body: request.body, redirect: "manual" });
    storeCookies(jar, res.headers.getSetCookie());

    const location = res.headers.get("location");
    if (res.status >= 300 && res.status < 400 && location) {
      await res.body?.cancel();
      const target = new URL(location, request.url);
      if (!onProvider(target)) return target;
      request = res.status === 307 || res.status === 308 ? { ...request, url: target } : { url: target, method: "GET" };
      continue;
    }

    const body = await res.text();
    const form = res.ok ? parseForm(body) : undefined;
    if (!form) {
      throw new Error(`signInAtProvider: ${request.method} ${request.url} answered ${res.status} without a redirect or form: ${
        body.replace(/<[^>]*>/g, " ").replace(/\s+/g, " ").trim().slice(0, 500)}`);
    }
    const fields = new URLSearchParams();
    for (const input of form.inputs) {
      if (input.name === "login") fields.set("login", login);
      else if (input.type === "password") fields.set(input.name, "test-password");
      else fields.set(input.name, input.value);
    }
    const action = new URL(form.action || request.url.href, request.url);
    if (!onProvider(action)) throw new Error(`signInAtProvider: form posts off the provider, to ${action}`);
    request = form.method === "GET"
      ? { url: new URL(`${action.origin}${action.pathname}?${fields}`), method: "GET" }
      : { url: action, method: "POST", body: fields.toString() };
  }
  throw new Error("signInAtProvider: too many steps without reaching the client's redirect URI");
}

function defaultAccount(sub: string): TestAccount {
  return { email: `${sub}@example.test`, email_verified: true, name: sub, preferred_username: sub };
}

async function signingKey(): Promise<JWK> {
  const { privateKey } = await new Promise<{ privateKey: import("node:crypto").KeyObject }>((resolve, reject) => {
    generateKeyPair("rsa", { modulusLength: 2048 }, (error, _publicKey, privateKey) =>
      error ? reject(error) : resolve({ privateKey }));
  });
  const jwk: JsonWebKey = privateKey.export({ format: "jwk" });
  return { ...jwk, kid: randomUUID(), use: "sig", alg: "RS256" } as JWK;
}

/** A per-provider in-memory store (the built-in one is fine too but warns on every start). */
function memoryAdapter(): (model: string) => Adapter {
  const entries = new Map<string, { payload: AdapterPayload; expiresAt: number }>();
  const sessionByUid = new Map<string, string>();
  const byUserCode = new Map<string, string>();
  const grantable = new Set(["AccessToken", "AuthorizationCode", "RefreshToken", "DeviceCode", "BackchannelAuthenticationRequest"]);
  const get = (key: string) => {
    const entry = entries.get(key);
    if (entry && entry.expiresAt <= Date.now()) entries.delete(key);
    else return entry?.payload;
    return undefined;
  };
  return (model) => {
    const key = (id: string) => `${model}:${id}`;
    return {
      async upsert(id, payload, expiresIn) {
        entries.set(key(id), { payload, expiresAt: expiresIn ? Date.now() + expiresIn * 1000 : Infinity });
        if (model === "Session" && payload.uid) sessionByUid.set(payload.uid, id);
        if (payload.userCode) byUserCode.set(payload.userCode, id);
      },
      async find(id) {
        return get(key(id));
      },
      async findByUid(uid) {
        const id = sessionByUid.get(uid);
        return id === undefined ? undefined : get(key(id));
      },
      async findByUserCode(userCode) {
        const id = byUserCode.get(userCode);
        return id === undefined ? undefined : get(key(id));
      },
      async consume(id) {
        const payload = get(key(id));
        if (payload) payload.consumed = Math.floor(Date.now() / 1000);
      },
      async destroy(id) {
        entries.delete(key(id));
      },
      async revokeByGrantId(grantId) {
        for (const [k, entry] of entries) {
          if (entry.payload.grantId === grantId && grantable.has(k.slice(0, k.indexOf(":")))) entries.delete(k);
        }
      },
    };
  };
}

/** Keeps name=value per cookie name (ignoring path/domain); expired or emptied cookies are dropped. */
function storeCookies(jar: Map<string, string>, setCookies: string[]): void {
  for (const line of setCookies) {
    const [pair, ...attributes] = line.split(";");
    const eq = pair.indexOf("=");
    if (eq <= 0) continue;
    const name = pair.slice(0, eq).trim();
    const value = pair.slice(eq + 1).trim();
    let expired = value === "";
    for (const attribute of attributes) {
      const [attr, ...rest] = attribute.split("=");
      const attrValue = rest.join("=").trim();
      const attrName = attr.trim().toLowerCase();
      if (attrName === "max-age" && Number(attrValue) <= 0) expired = true;
      if (attrName === "expires" && Date.parse(attrValue) <= Date.now()) expired = true;
    }
    if (expired) jar.delete(name);
    else jar.set(name, value);
  }
}

interface ParsedForm {
  action: string;
  method: "GET" | "POST";
  inputs: { name: string; type: string; value: string }[];
}

/** The first <form> in a page: its action, method and named <input>s (buttons ignored). */
function parseForm(page: string): ParsedForm | undefined {
  const form = /<form\b([^>]*)>([\s\S]*?)<\/form>/i.exec(page);
  if (!form) return undefined;
  const attrs = parseAttributes(form[1]);
  const inputs: ParsedForm["inputs"] = [];
  for (const input of form[2].matchAll(/<input\b([^>]*)>/gi)) {
    const a = parseAttributes(input[1]);
    if (!a.name) continue;
    const type = (a.type ?? "text").toLowerCase();
    if (type === "submit" || type === "button" || type === "reset") continue;
    inputs.push({ name: a.name, type, value: a.value ?? "" });
  }
  return { action: attrs.action ?? "", method: attrs.method?.toUpperCase() === "GET" ? "GET" : "POST", inputs };
}

function parseAttributes(source: string): Record<string, string> {
  const attrs: Record<string, string> = {};
  for (const m of source.matchAll(/([^\s"'=<>/]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?/g)) {
    attrs[m[1].toLowerCase()] = decodeEntities(m[2] ?? m[3] ?? m[4] ?? "");
  }
  return attrs;
}

function decodeEntities(s: string): string {
  const named: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };
  return s.replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi, (whole, entity: string) => {
    if (entity[0] === "#") {
      const code = entity[1] === "x" || entity[1] === "X" ? parseInt(entity.slice(2), 16) : parseInt(entity.slice(1), 10);
      return String.fromCodePoint(code);
    }
    return named[entity.toLowerCase()] ?? whole;
  });
}

function html(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function text(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { "content-type": "text/plain; charset=utf-8" });
  res.end(body);
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from "node:crypto";
import * as client from "openid-client";
import type { Config } from "../config/index.js";
import { FlotillaError } from "../kernel/index.js";

type OidcConfig = NonNullable<Config["auth"]["oidc"]>;

/** What must survive the trip to the provider and back, sealed in a cookie of the browser that set out. */
export interface LoginFlow {
  state: string;
  nonce: string;
  verifier: string;
  /** where to send the browser afterwards; absent: answer with JSON */
  redirect?: string;
  /** the signed-in user who started the login, to link the identity to (a guest keeps their data) */
  linkUserId?: string;
  expiresAt: number;
}

/** The identity a provider vouched for. */
export interface OidcIdentity {
  issuer: string;
  subject: string;
  email?: string;
  emailVerified: boolean;
  name?: string;
  preferredUsername?: string;
}

const FLOW_TTL_MS = 10 * 60_000;

/**
 * OpenID Connect login with the authorization code flow and PKCE (S256),
 * state and nonce checked. The flow is kept in an encrypted cookie rather than
 * in memory, so the callback may reach any replica.
 */
export class OidcLogin {
  private discovered?: Promise<client.Configuration>;
  private readonly sealKey: Buffer;

  constructor(
    readonly settings: OidcConfig,
    secret: Buffer,
  ) {
    this.sealKey = Buffer.from(hkdfSync("sha256", secret, Buffer.alloc(0), "flotilla oidc login flow", 32));
  }

  /** The provider's metadata, read once; a failed discovery is tried again on the next login. */
  private configuration(): Promise<client.Configuration> {
    this.discovered ??= client
      .discovery(new URL(this.settings.issuer), this.settings.client_id, this.settings.client_secret, undefined, {
        execute: this.settings.issuer.startsWith("http:") ? [client.allowInsecureRequests] : [],
      })
      .catch((err: unknown) => {
        this.discovered = undefined;
        throw new FlotillaError("upstream_unreachable", `the OIDC provider ${this.settings.issuer} did not answer discovery`, { cause: err });
      });
    return this.discovered;
  }

  async start(redirect: string | undefined, linkUserId: string | undefined): Promise<{ url: URL; state: string; sealed: string }> {
    const config = await this.configuration();
    const verifier = client.randomPKCECodeVerifier();
    const flow: LoginFlow = { state: client.randomState(), nonce: client.randomNonce(), verifier, redirect, linkUserId, expiresAt: Date.now() + FLOW_TTL_MS };
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: this.settings.redirect_uri,
      scope: this.settings.scopes,
      response_type: "code",
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: "S256",
      state: flow.state,
      nonce: flow.nonce,
    });
    return { url, state: flow.state, sealed: this.seal(flow) };
  }

  /** The flow a cookie carries, if it is ours and fresh. */
  open(sealed: string | undefined): LoginFlow | undefined {
    if (!sealed) return undefined;
    try {
      const raw = Buffer.from(sealed, "base64url");
      const decipher = createDecipheriv("aes-256-gcm", this.sealKey, raw.subarray(0, 12));
      decipher.setAuthTag(raw.subarray(12, 28));
      const flow = JSON.parse(Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString("utf8")) as LoginFlow;
      return flow.expiresAt > Date.now() ? flow : undefined;
    } catch {
      return undefined;
    }
  }

  /** Exchanges the code from the callback's query and checks the id token (signature, issuer, audience, nonce). */
  async finish(flow: LoginFlow, query: string): Promise<OidcIdentity> {
    const config = await this.configuration();
    const callback = new URL(this.settings.redirect_uri);
    callback.search = query;
    let tokens: Awaited<ReturnType<typeof client.authorizationCodeGrant>>;
    try {
      tokens = await client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: flow.verifier, expectedState: flow.state, expectedNonce: flow.nonce, idTokenExpected: true });
    } catch (err) {
      throw new FlotillaError("invalid_token", `the OIDC provider's answer was refused: ${(err as Error).message}`, { cause: err });
    }
    const claims = tokens.claims();
    if (!claims) throw new FlotillaError("invalid_token", "the OIDC provider sent no id token");
    const text = (value: unknown) => (typeof value === "string" && value ? value : undefined);
    return {
      issuer: claims.iss,
      subject: claims.sub,
      email: text(claims.email),
      emailVerified: claims.email_verified === true,
      name: text(claims.name),
      preferredUsername: text(claims.preferred_username),
    };
  }

  private seal(flow: LoginFlow): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv("aes-256-gcm", this.sealKey, iv);
    const body = Buffer.concat([cipher.update(JSON.stringify(flow), "utf8"), cipher.final()]);
    return Buffer.concat([iv, cipher.getAuthTag(), body]).toString("base64url");
  }
}

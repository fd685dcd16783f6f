import { createHmac, timingSafeEqual } from "node:crypto";

/** What an access token says: whose it is and which token session it belongs to. */
export interface AccessClaims {
  /** the user id */
  sub: string;
  /** the token session (refresh-token family) it was issued in */
  sid: string;
  iat: number;
  exp: number;
}

const HEADER = Buffer.from(JSON.stringify({ alg: "HS256", typ: "JWT" })).toString("base64url");

/** A JWT's shape: three base64url parts, the first being a JSON header (`eyJ`). */
export function looksLikeJwt(token: string): boolean {
  return token.startsWith("eyJ") && token.split(".").length === 3;
}

/**
 * Short-lived access tokens: HS256 JWTs signed with a key every replica
 * shares. Verifying one is a hash and a JSON parse, no database; whether its
 * session still stands is the caller's check.
 */
export class AccessTokens {
  constructor(
    private readonly key: Buffer,
    readonly ttlMs: number,
  ) {}

  sign(userId: string, sessionId: string, now = Date.now()): { token: string; expiresAt: number } {
    const iat = Math.floor(now / 1000);
    const exp = iat + Math.floor(this.ttlMs / 1000);
    const payload = Buffer.from(JSON.stringify({ sub: userId, sid: sessionId, iat, exp } satisfies AccessClaims)).toString("base64url");
    const body = `${HEADER}.${payload}`;
    return { token: `${body}.${this.mac(body)}`, expiresAt: exp * 1000 };
  }

  /** The claims of a genuine, unexpired token; undefined for anything else. */
  verify(token: string, now = Date.now()): AccessClaims | undefined {
    const parts = token.split(".");
    if (parts.length !== 3 || parts[0] !== HEADER) return undefined;
    const expected = Buffer.from(this.mac(`${parts[0]}.${parts[1]}`));
    const given = Buffer.from(parts[2]);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
    let claims: Partial<AccessClaims>;
    try {
      claims = JSON.parse(Buffer.from(parts[1], "base64url").toString("utf8")) as Partial<AccessClaims>;
    } catch {
      return undefined;
    }
    if (typeof claims.sub !== "string" || typeof claims.sid !== "string" || typeof claims.exp !== "number") return undefined;
    return claims.exp * 1000 > now ? (claims as AccessClaims) : undefined;
  }

  private mac(body: string): string {
    return createHmac("sha256", this.key).update(body).digest("base64url");
  }
}

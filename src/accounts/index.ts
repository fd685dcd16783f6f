import type { FastifyInstance } from "fastify";
import { registerKeyRoutes } from "./key-routes.js";
import { registerOidcRoutes } from "./oidc-routes.js";
import { registerAccountRoutes } from "./routes.js";
import type { Accounts } from "./service.js";
import { registerSettingsRoutes } from "./settings-routes.js";
import { registerTokenRoutes } from "./token-routes.js";

export { Accounts, type TokenPair } from "./service.js";
export { hashPassword, verifyPassword } from "./passwords.js";
export { registerRateLimits } from "./rate-limits.js";
export { Keyring, type KeyRecord } from "./keyring.js";
export { ensureAdminKey, keyRecord, loadKeys } from "./admin-key.js";

/** Every accounts route: seed 004's dashboard accounts, seed 002's tokens, OIDC login, keys and settings. */
export function registerAccountsRoutes(app: FastifyInstance, accounts: Accounts): void {
  registerAccountRoutes(app, accounts);
  registerTokenRoutes(app, accounts);
  registerKeyRoutes(app, accounts);
  registerOidcRoutes(app, accounts);
  registerSettingsRoutes(app, accounts.store);
}

export { registerAccountRoutes, type AccountDeps } from "./routes.js";
export { Sessions, sessionToken, SESSION_COOKIE } from "./sessions.js";
export { hashPassword, verifyPassword } from "./passwords.js";

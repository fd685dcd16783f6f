/**
 * The ground floor: what every capability shares and nothing above it owns —
 * the error registry, who is asking (principal, auth levels, credentials),
 * the batch lane, WebSocket upgrade routes, build facts, the guard on every
 * fetch of a URL a user gave, and the sealing of secrets kept at rest. It
 * imports no other folder of src/.
 */
export {
  errorBody,
  ERROR_CODES,
  errorShapeOf,
  FlotillaError,
  isFlotillaError,
  surfaceOf,
  type ErrorCode,
  type ErrorOptions,
  type ErrorShape,
  type ErrorSpec,
  type JsonRpcErrorBody,
  type OllamaErrorBody,
  type OpenAIErrorBody,
  type Surface,
} from "./errors.js";
export { callerOf, ownerOf, TASK_KEY_HEADER, TASK_RUNNER_KEY_ID, type AuthLevel, type CredentialResolver, type Maybe, type OwnerOf, type Principal, type Role, type Scope, type WithHeaders } from "./principal.js";
export { generateKey, hashKey, KEY_PREFIX, presentedKey, SecretMatch } from "./credentials.js";
export { isSealed, SEALED_PREFIX, SealedValueError, Sealer } from "./sealing.js";
export { batchTurn } from "./batch-lane.js";
export { BUILD } from "./build-info.js";
export { dialUrl, UpgradeRoutes, type SocketHandler, type UpgradeGuard } from "./upgrade.js";
export { Backoff } from "./backoff.js";
export { ClientKeyCheck, dialInPeer, type DialInPeer } from "./client-key.js";
export { bodyMayBeOmitted, callerGone, type BodyClass } from "./request-body.js";
export { namePatterns } from "./name-pattern.js";
export { outboundAllowProblem } from "./outbound-allow.js";
export { boundedFetch, OutboundError, OutboundGuard, type OutboundAnswer, type OutboundLimits, type OutboundPolicy, type OutboundRequest } from "./outbound.js";
export { isoTime, isoTimeOrNull, unixSeconds } from "./time.js";

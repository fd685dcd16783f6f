import type { FastifyInstance } from "fastify";
import { registerAggregateRoutes } from "./aggregate-routes.js";
import type { ProxyDeps } from "./context.js";
import { registerInferenceRoutes } from "./inference-routes.js";
import { registerModelOpsRoutes } from "./model-ops-routes.js";

export type { ProxyDeps, CallContext, RecordedOutcome, ChatExtension, PreparedChat } from "./context.js";
export type { AnswerTap } from "./forward.js";

/** Both surfaces: OpenAI at /v1 (and /api/v1), Ollama at /api. */
export function registerProxyRoutes(app: FastifyInstance, deps: ProxyDeps): void {
  registerInferenceRoutes(app, deps);
  registerAggregateRoutes(app, deps);
  registerModelOpsRoutes(app, deps);
}
export { callUpstream, upstreamStatusError } from "./upstream.js";
export { forwardChat } from "./inference-routes.js";
export { DONE, SseFrames } from "./translate/framing.js";

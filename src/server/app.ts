import { randomUUID } from "node:crypto";
import Fastify, { LogController, type FastifyInstance } from "fastify";
import type { Config } from "../config/index.js";
import { registerClusterRoutes, registerFleetRoutes, registerModelRoutes, registerNodeRoutes, type FleetService } from "../fleet/index.js";
import { registerEventRoutes } from "../observe/routes.js";
import { registerAnalyticsRoutes } from "../observe/analytics-routes.js";
import { registerAuditRoutes } from "../observe/audit-routes.js";
import { registerLiveRoutes } from "../observe/live-routes.js";
import type { LiveState } from "../observe/live.js";
import { registerQueueRoutes, registerWorkerQueueRoutes, type Queues } from "../queue/index.js";
import type { Metrics } from "../observe/metrics.js";
import type { AuditStats } from "../store/index.js";
import { registerProxyRoutes, type ProxyDeps } from "../proxy/index.js";
import type { Keyring } from "../accounts/index.js";
import { authorizeUpgrade, registerAuth } from "./auth.js";
import { registerBodyParsing } from "./body.js";
import { registerInFlightLimits } from "./in-flight.js";
import { registerOriginGuard, type RequestOrigins } from "./request-origin.js";
import { clientErrorHandler, httpServerOptions } from "./http-limits.js";
import { frameworkError, MAX_PARAM_LENGTH, registerErrorHandling } from "./error-handler.js";
import { registerNulGuard } from "./nul-guard.js";
import { withoutGatewayPrefix } from "./base-paths.js";
import { registerOpenApi } from "./openapi.js";
import { registerSystemRoutes } from "./system-routes.js";
import { queryCoercingValidator } from "./validation.js";
import type { OutboundGuard, UpgradeRoutes } from "../kernel/index.js";
import { registerWorkerRoutes, type WorkerHub } from "../workers/index.js";
import { registerMcpAdminRoutes, registerMcpEndpointRoutes, registerMcpRelayRoutes, registerMcpToolsApiRoutes, ToolAccess, type RelayHub, type ToolCatalog } from "../mcp/index.js";
import { registerAccountsRoutes, registerRateLimits, type Accounts } from "../accounts/index.js";
import { registerWebhookRoutes, type WebhookDispatcher } from "../webhooks/index.js";
import { registerResponsesRoutes } from "../responses/index.js";
import { hasImagesToInline, inlineChatImages, registerMediaRoutes, type MediaService } from "../media/index.js";
import { ConversationChats, registerConversationRoutes, registerModelCatalogRoutes, type ModelCatalogs } from "../conversations/index.js";
import { registerNotificationRoutes, registerScheduleRoutes, type NotificationRoutesDeps, type ScheduledJobs } from "../schedule/index.js";
import { registerPluginRoutes, type Plugins } from "../plugins/index.js";
import { registerDashboardRoutes } from "../dashboard/index.js";

export interface AppDeps {
  config: Readonly<Config>;
  keyring: Keyring;
  fleet: FleetService;
  metrics: Metrics;
  record: ProxyDeps["record"];
  /** The audit log's aggregates, run where they do not hold up requests. */
  auditStats: AuditStats;
  upgrades: UpgradeRoutes;
  workers: WorkerHub;
  relays: RelayHub;
  tools: ToolCatalog;
  accounts: Accounts;
  live: LiveState;
  queues: Queues;
  webhooks: WebhookDispatcher;
  /** Where requests may come from (Origin, Host): checked first, for upgrades too. */
  origins: RequestOrigins;
  outbound: OutboundGuard;
  catalogs: ModelCatalogs;
  scheduledJobs: ScheduledJobs;
  notifications: NotificationRoutesDeps;
  /** The gateway's own key for work it runs for a caller (queued tasks, background responses), held in memory only. */
  runnerKey: string;
  media: MediaService;
  plugins: Plugins;
}

const REQUEST_ID = /^[\w.:-]{1,128}$/;

/** Wires the capabilities into one HTTP app; no logic of its own. */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    logger: deps.config.log_level === "silent" ? false : { level: deps.config.log_level },
    // One log line per request would cost more than the whole proxy path; the audit log records requests.
    logController: new LogController({ disableRequestLogging: true }),
    http: httpServerOptions(deps.config.limits),
    requestTimeout: deps.config.limits.request_timeout_ms,
    clientErrorHandler,
    requestIdHeader: false,
    genReqId: (req) => {
      const given = req.headers["x-request-id"];
      return typeof given === "string" && REQUEST_ID.test(given) ? given : `req_${randomUUID().replace(/-/g, "")}`;
    },
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: MAX_PARAM_LENGTH },
    rewriteUrl: (req) => withoutGatewayPrefix(req.url ?? "/"),
    frameworkErrors: frameworkError,
    ...(deps.config.trust_proxy !== undefined ? { trustProxy: deps.config.trust_proxy } : {}),
    // Bodies are checked as sent: a string where an array belongs is a 400, not silently wrapped.
    ajv: { customOptions: { coerceTypes: false, allErrors: false } },
    schemaController: { compilersFactory: { buildValidator: queryCoercingValidator } },
  });
  app.addHook("onRequest", function requestIdHeader(req, reply, done) {
    void reply.header("x-request-id", req.id);
    done();
  });
  registerErrorHandling(app);
  registerOriginGuard(app, deps.origins);
  registerBodyParsing(app, deps.config.limits, deps.config.auth.guest_limits.body_bytes);
  registerNulGuard(app);
  const credentials = deps.accounts.credentials();
  registerAuth(app, deps.keyring, deps.config.auth.proxy, credentials);
  registerRateLimits(app, deps.accounts.limits);
  registerInFlightLimits(app, deps.config.limits, deps.config.auth);
  await registerOpenApi(app);
  registerSystemRoutes(app, deps.fleet.fleet, deps.metrics);
  registerFleetRoutes(app, deps.fleet);
  registerNodeRoutes(app, deps.fleet);
  registerModelRoutes(app, deps.fleet.fleet, deps.fleet.models);
  registerClusterRoutes(app, deps.fleet, () => deps.metrics.requestsProcessed(), deps.config.embedded.name);
  registerEventRoutes(app, deps.accounts.store, deps.fleet.fleet);
  registerAuditRoutes(app, deps.accounts.store, deps.auditStats);
  registerAnalyticsRoutes(app, deps.auditStats);
  registerLiveRoutes(app, deps.live, deps.upgrades, (request, level) => authorizeUpgrade(request, level, deps.keyring, credentials));
  registerWorkerRoutes(app, deps.upgrades, deps.workers);
  registerMcpRelayRoutes(app, deps.upgrades, deps.relays);
  const toolAccess = new ToolAccess(deps.config.mcp.tool_sets, deps.accounts.store.mcpKeyAccess, app.log);
  registerMcpEndpointRoutes(app, deps.tools, toolAccess);
  registerMcpToolsApiRoutes(app, deps.tools, toolAccess);
  registerMcpAdminRoutes(app, deps.tools, deps.accounts.store, toolAccess);
  registerResponsesRoutes(app, deps.accounts.store.responses, deps.tools, toolAccess, {
    maxSteps: deps.config.responses.max_steps,
    timeLimitMs: deps.config.responses.time_limit_ms,
    announce: (owner, type, data) => deps.webhooks.emitFor(owner, type, data),
    queue: deps.queues,
    runnerKey: deps.runnerKey,
    backgroundConcurrency: deps.config.task_runner.max_running,
  });
  const proxy: ProxyDeps = {
    config: deps.config,
    fleet: deps.fleet,
    metrics: deps.metrics,
    record: deps.record,
    chat: new ConversationChats(deps.accounts.store, app.log),
    inlineImages: (body, owner) => (hasImagesToInline(body) ? inlineChatImages(deps.media, body, owner) : false),
    beforeRoute: deps.plugins.beforeRoute,
  };
  registerConversationRoutes(app, deps.accounts.store, proxy);
  registerAccountsRoutes(app, deps.accounts);
  registerQueueRoutes(app, deps.queues, deps.outbound);
  registerWorkerQueueRoutes(app, deps.queues, deps.config);
  registerWebhookRoutes(app, deps.accounts.store, deps.webhooks, deps.outbound);
  registerMediaRoutes(app, deps.media, deps.config.media.public_url);
  registerModelCatalogRoutes(app, deps.catalogs);
  registerScheduleRoutes(app, deps.scheduledJobs, deps.config.schedule.docker_host);
  registerNotificationRoutes(app, deps.notifications);
  registerPluginRoutes(app, deps.plugins.list);
  registerDashboardRoutes(app);
  registerProxyRoutes(app, proxy);
  return app;
}

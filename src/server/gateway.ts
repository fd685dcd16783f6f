import { randomBytes } from "node:crypto";
import { createServer, type RequestListener, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import type { FastifyInstance } from "fastify";
import type { Config } from "../config/index.js";
import { FleetService } from "../fleet/index.js";
import { ModelCatalogs } from "../conversations/index.js";
import { callUpstream, upstreamStatusError } from "../proxy/index.js";
import { AuditWriter } from "../observe/audit.js";
import { FleetEvents } from "../observe/events.js";
import { LiveState } from "../observe/live.js";
import { Metrics } from "../observe/metrics.js";
import { createRecorder } from "../observe/record.js";
import { AuditRetention } from "../observe/retention.js";
import { openAuditSink, openStore, type Store } from "../store/index.js";
import { buildApp } from "./app.js";
import { defaultAllowedHosts, RequestOrigins } from "./request-origin.js";
import { clientErrorHandler, httpServerOptions } from "./http-limits.js";
import { generateKey, hashKey, OutboundGuard, Sealer, TASK_RUNNER_KEY_ID, UpgradeRoutes } from "../kernel/index.js";
import { WorkerHub } from "../workers/index.js";
import { RelayHub, ToolCatalog } from "../mcp/index.js";
import { sealPlainSigningSecrets, sendTaskEvents, WebhookDispatcher } from "../webhooks/index.js";
import { startEmbeddedNode } from "../engine/embedded-node.js";
import { openMedia } from "../media/index.js";
import { Accounts, ensureAdminKey, keyRecord, Keyring, loadKeys } from "../accounts/index.js";
import { jobActions, Notifier, referenceProbe, ScheduledJobs, Scheduler, TelegramChannel, TelegramSettings, webhookChannel } from "../schedule/index.js";
import { loadPlugins } from "../plugins/index.js";
import { inferenceRunner, openTaskBackend, QueueConfigs, Queues, sendWebhooks, warnOfTasksLeftInDatabase } from "../queue/index.js";

export interface Gateway {
  app: FastifyInstance;
  store: Store;
  fleet: FleetService;
  /** Tells subscribers of server events; `addChannel` adds a way of telling them (a plugin's). */
  notifier: Notifier;
  /** http://host:port of the main listener */
  url: string;
  /** The admin key made at first start, if it was made now: print it once. */
  generatedAdminKey?: string;
  /** Serving the generated tiny model because nothing else was configured. */
  servesTinyModel: boolean;
  close(): Promise<void>;
}

const KEY_TOUCH_INTERVAL_MS = 10_000;
/** The `secrets` row of the generated sealing secret, when `secret_key` is not set. */
const SEALING_KEY = "sealing_key";
const SESSION_SWEEP_INTERVAL_MS = 3_600_000;
/** How soon a model turned off or on by an admin on another replica applies here. */
const CATALOG_RELOAD_MS = 5_000;

/**
 * Opens the store, brings up the fleet and starts listening. A start that fails
 * part-way closes what it had opened (for up to shutdown_timeout_ms), then throws.
 */
export async function startGateway(config: Readonly<Config>): Promise<Gateway> {
  const opened = new OpenedOnStart();
  try {
    return await openGateway(config, opened);
  } catch (err) {
    await opened.closeWithin(config.shutdown_timeout_ms);
    throw err;
  }
}

async function openGateway(config: Readonly<Config>, opened: OpenedOnStart): Promise<Gateway> {
  // First: a plugin that cannot load stops the start before anything is opened.
  const plugins = await loadPlugins(config);
  const storeOptions = { dataDir: config.data_dir, databaseUrl: config.database_url };
  const store = await openStore(storeOptions);
  opened.add(() => store.close());
  const auditSink = openAuditSink(store, storeOptions);
  opened.add(() => auditSink.close());
  const { generated } = await ensureAdminKey(store, config.admin_key);
  const keyring = new Keyring(
    async (hash) => {
      const row = await store.apiKeys.findByHash(hash);
      return row && keyRecord(row);
    },
    async (id) => {
      const row = await store.apiKeys.get(id);
      return row && keyRecord(row);
    },
  );
  keyring.load(await loadKeys(store));
  // Sealing needs one secret on every replica: the operator's, or one generated once and kept in the database.
  const sealingSecret = config.secret_key ?? (await store.secrets.getOrCreate(SEALING_KEY, randomBytes(32).toString("base64url")));
  const signingSecrets = new Sealer(sealingSecret, "webhook signing secret");

  // The logger is Fastify's, made with the app below; these run only once it exists.
  const log = { info: (m: string) => app.log.info(m), warn: (m: string) => app.log.warn(m) };
  const fleet = new FleetService(config, store, log, { call: (node, call) => callUpstream(node, call), statusError: upstreamStatusError }, new Sealer(sealingSecret, "server api_key"));
  opened.add(() => fleet.close());
  fleet.router.strategy = plugins.strategy;
  const catalogs = new ModelCatalogs(store, fleet, { reloadMs: CATALOG_RELOAD_MS, showTimeoutMs: config.poll.timeout_ms }, log);
  opened.add(() => catalogs.close());
  const metrics = new Metrics({
    serverUp: () => fleet.fleet.all().map((n) => [n.name, n.up ? 1 : 0, n.inFlight]),
    queued: () => fleet.admission.waiting,
    queueDepths: () => fleet.admission.queueDepths(),
    loadedModels: () => fleet.fleet.all().flatMap((n) => [...n.loaded.values()].map((m): [string, string] => [n.name, m.name])),
  });
  const audit = new AuditWriter(auditSink, {
    flushIntervalMs: config.audit.flush_interval_ms,
    batchSize: config.audit.batch_size,
    onError: (err) => app.log.error({ err }, "audit flush failed"),
  });
  opened.add(() => audit.close());
  const retention = new AuditRetention(auditSink.audit, {
    retentionDays: config.audit.retention_days,
    onError: (err) => app.log.error({ err }, "old audit rows could not be pruned"),
  });
  opened.add(() => retention.close());
  const origins = new RequestOrigins(config.auth.allowed_origins, config.allowed_hosts ?? defaultAllowedHosts(config.host));
  const upgrades = new UpgradeRoutes((request) => origins.problem(request.headers));
  const workers = new WorkerHub(
    fleet.fleet,
    {
      clientKey: config.client_key,
      heartbeatIntervalMs: config.workers.heartbeat_interval_ms,
      heartbeatTimeoutMs: config.workers.heartbeat_timeout_ms,
      registerTimeoutMs: config.workers.register_timeout_ms,
      forgetAfterMs: config.workers.forget_after_ms,
      allowedModels: config.workers.allowed_models,
    },
    log,
  );
  opened.add(() => workers.close());
  const relays = new RelayHub(
    {
      clientKey: config.client_key,
      callTimeoutMs: config.mcp.call_timeout_ms,
      maxMessageBytes: config.mcp.max_message_bytes,
      maxCallsPerRelay: config.mcp.max_calls_per_relay,
      maxCallsPerCaller: config.mcp.max_calls_per_caller,
      heartbeatIntervalMs: config.mcp.heartbeat_interval_ms,
      heartbeatTimeoutMs: config.mcp.heartbeat_timeout_ms,
      registerTimeoutMs: config.mcp.register_timeout_ms,
    },
    log,
  );
  opened.add(() => relays.close());
  const tools = new ToolCatalog(relays, { servers: config.mcp.servers, settings: store.mcpTools, relayTokens: config.mcp.relay_tokens, log });
  opened.add(() => tools.close());
  const accounts = await Accounts.open(store, keyring, config, log);
  opened.add(() => accounts.close());
  const events = new FleetEvents(fleet.fleet, store, {
    systemSampleMs: config.events.system_sample_ms,
    retentionMs: config.events.retention_days * 86_400_000,
    onError: (err) => app.log.error({ err }, "fleet events could not be written"),
  });
  opened.add(() => events.close());
  const live = new LiveState(fleet, events);
  const taskBackend = await openTaskBackend(config, store, log);
  opened.add(() => taskBackend.close());
  const replicaId = `gw_${randomBytes(6).toString("hex")}`;
  const queues = new Queues(taskBackend.tasks, new QueueConfigs(config.queues, config.queues_dir ?? join(config.data_dir, "queues")), {
    replicaId,
    maxRunning: config.task_runner.max_running,
    pollMs: config.task_runner.poll_ms,
    leaseGraceMs: config.task_runner.lease_grace_ms,
    log,
  });
  opened.add(() => queues.close());
  // Every fetch of a URL a user gave goes through it; webhooks.allow_private is outbound.allow_private's older name.
  const outbound = new OutboundGuard({ allowPrivate: config.outbound.allow_private || config.webhooks.allow_private, allow: config.outbound.allow });
  opened.add(() => outbound.close());
  const media = await openMedia(config, store.media, outbound, sealingSecret);
  opened.add(() => media.close());
  const webhooks = new WebhookDispatcher(store, {
    outbound,
    maxAttempts: config.webhooks.max_attempts,
    retryBaseMs: config.webhooks.retry_base_ms,
    timeoutMs: config.webhooks.timeout_ms,
    pollMs: config.webhooks.poll_ms,
    log,
    signingSecrets,
  });
  opened.add(() => webhooks.close());
  sendTaskEvents(queues, store, webhooks, log);
  queues.on("ended", (row) => metrics.tasks.inc({ queue: row.queue, state: row.state }));
  const scheduledJobs = new ScheduledJobs({
    repo: store.scheduledJobs,
    queues,
    outbound,
    // A node the fleet does not know, or one without max_concurrency, is taken to run one job at a time.
    concurrencyOf: (node) => fleet.fleet.get(node)?.spec.max_concurrency ?? 1,
  });
  const scheduler = new Scheduler({ repo: store.scheduledJobs, run: jobActions(queues, outbound), owner: replicaId, tickMs: config.schedule.tick_ms, log });
  opened.add(() => scheduler.close());
  const notifications = config.notifications;
  const telegramSettings = new TelegramSettings(store.settings, new Sealer(sealingSecret, "telegram bot token"));
  const telegram = new TelegramChannel(notifications.telegram_api_url, () => telegramSettings.target(true), notifications.timeout_ms);
  const notifier = new Notifier({
    repo: store.notifications,
    owner: replicaId,
    // Replicas see a server change up to a poll apart: the cooldown is also how long they take to agree on one notice.
    cooldownMs: Math.max(notifications.cooldown_ms, 2 * config.poll.interval_ms),
    maxAttempts: notifications.max_attempts,
    retryBaseMs: notifications.retry_base_ms,
    online: notifications.reference_url === undefined ? undefined : referenceProbe(notifications.reference_url, notifications.timeout_ms),
    recheckMs: notifications.reference_check_ms,
    isDown: (server) => fleet.fleet.get(server)?.up === false,
    log,
  });
  notifier.addChannel(telegram);
  notifier.addChannel(webhookChannel(outbound, notifications.timeout_ms));
  for (const channel of plugins.channels) notifier.addChannel(channel);
  opened.add(() => notifier.close());
  if (notifications.enabled) events.on("event", (row) => notifier.fleetEvent(row));
  // The queue's runners call the gateway's own routes in process, with a key that exists only in memory.
  const runnerKey = generateKey();
  keyring.addInternal({ id: TASK_RUNNER_KEY_ID, hash: hashKey(runnerKey), role: "user", user_id: null, expires_at: null, revoked_at: null, scopes: ["inference"], daily_token_budget: null });
  const app = await buildApp({ config, keyring, fleet, metrics, record: plugins.afterResponse(createRecorder(audit, metrics)), auditStats: auditSink.audit, upgrades, workers, relays, tools, accounts, live, queues, webhooks, outbound, catalogs, runnerKey, origins, media, scheduledJobs, plugins, notifications: { notifier, telegram, settings: telegramSettings, repo: store.notifications, outbound } });
  opened.add(() => app.close());
  plugins.attachLog(app.log);
  app.server.on("upgrade", upgrades.listener);
  opened.add(() => upgrades.close());

  await fleet.start();
  await catalogs.start();
  events.start();
  retention.start();
  await sealPlainSigningSecrets(store, signingSecrets);
  webhooks.start();
  const embedded = await startEmbeddedNode(config, fleet.fleet, log);
  await warnOfTasksLeftInDatabase(taskBackend.backend, store, log);
  await queues.start(inferenceRunner(app, runnerKey, (id) => fleet.requests.stop(id)));
  sendWebhooks(queues, outbound, log);
  if (config.schedule.enabled) scheduler.start();
  await app.listen({ port: config.port, host: config.host });
  const extra: Server[] = [];
  opened.add(() => extra.forEach((server) => server.close()));
  if (config.ollama_port !== undefined) {
    const ollamaPort = await listenWith(config.ollama_port, config.host, config.limits, (req, res) => app.server.emit("request", req, res));
    ollamaPort.on("upgrade", upgrades.listener);
    extra.push(ollamaPort);
  }
  if (config.metrics_port !== undefined) {
    extra.push(
      await listenWith(config.metrics_port, config.host, config.limits, (_req, res) => {
        void metrics.registry.metrics().then((text) => res.writeHead(200, { "content-type": metrics.registry.contentType }).end(text));
      }),
    );
  }
  // Now and then: record which keys were used, and reload them all so revocations on other replicas apply here.
  const touch = setInterval(() => void touchKeys(store, keyring).then(async () => keyring.load(await loadKeys(store))).catch(() => undefined), KEY_TOUCH_INTERVAL_MS);
  touch.unref();
  const sweep = setInterval(() => void store.sessions.removeExpired(Date.now()).catch(() => undefined), SESSION_SWEEP_INTERVAL_MS);
  sweep.unref();

  const address = app.server.address() as AddressInfo;
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  return {
    app,
    store,
    fleet,
    notifier,
    url: `http://${host === "0.0.0.0" || host === "[::]" ? "127.0.0.1" : host}:${address.port}`,
    generatedAdminKey: generated,
    servesTinyModel: embedded?.tiny ?? false,
    async close() {
      clearInterval(touch);
      clearInterval(sweep);
      for (const server of extra) server.close();
      await scheduler.close();
      await notifier.close();
      await queues.close();
      workers.close();
      relays.close();
      await tools.close();
      await webhooks.close();
      await outbound.close();
      await media.close();
      upgrades.close();
      await closeWithin(app, config.shutdown_timeout_ms);
      await taskBackend.close();
      await audit.close();
      await retention.close();
      await auditSink.close();
      await touchKeys(store, keyring);
      catalogs.close();
      await fleet.close();
      await events.close();
      await accounts.close();
      await store.close();
    },
  };
}

/** What a start has opened so far, to close (last opened first) if it fails part-way. */
class OpenedOnStart {
  private readonly closers: Array<() => unknown> = [];

  add(close: () => unknown): void {
    this.closers.push(close);
  }

  /** Each close that fails is passed over; after `ms` the rest is left to the process's exit. */
  async closeWithin(ms: number): Promise<void> {
    const all = (async () => {
      for (const close of this.closers.reverse()) await Promise.resolve().then(close).catch(() => undefined);
    })();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([all, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms).unref()))]);
    clearTimeout(timer);
  }
}

/** How often a closing server lets go of the kept-alive connections whose answers have ended. */
const IDLE_SWEEP_MS = 100;

/**
 * Stops accepting, lets in-flight answers finish for up to `ms`, then cuts what is left.
 * A kept-alive connection goes as soon as its answer ends (Node closes only those idle at
 * the moment of close), so a client that keeps its connection does not hold the exit to `ms`.
 */
async function closeWithin(app: FastifyInstance, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      app.server.closeAllConnections();
      resolve();
    }, ms);
  });
  const sweep = setInterval(() => app.server.closeIdleConnections(), IDLE_SWEEP_MS);
  await Promise.race([app.close(), deadline]);
  clearInterval(sweep);
  clearTimeout(timer);
}

async function touchKeys(store: Store, keyring: Keyring): Promise<void> {
  if (keyring.used.size === 0) return;
  const ids = [...keyring.used];
  keyring.used.clear();
  await store.apiKeys.touch(ids, Date.now()).catch(() => ids.forEach((id) => keyring.used.add(id)));
}

/** Another listener, with the main one's limits on what a client sends. */
function listenWith(port: number, host: string, limits: Config["limits"], handler: RequestListener): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer(httpServerOptions(limits), handler);
    server.on("clientError", clientErrorHandler);
    server.once("error", reject);
    server.listen(port, host, () => resolve(server));
  });
}

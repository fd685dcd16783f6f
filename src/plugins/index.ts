/**
 * Plugins (seed 004's `GET /api/plugins`): ES modules from the plugins
 * directory or npm packages, loaded once at start, that add routing strategies,
 * notification channels and request hooks through one small API (api.ts).
 */
import { join } from "node:path";
import type { Config } from "../config/index.js";
import type { NodeOrder } from "../fleet/index.js";
import type { RequestRecord } from "../observe/record.js";
import type { NotificationChannel } from "../schedule/channel.js";
import { beforeRouteRunner, withAfterResponse, type BeforeRoute } from "./hooks.js";
import { loadAll, type Additions, type PluginStatus } from "./loader.js";
import { PluginLogs, type LogSink } from "./log.js";
import { pluginsIn, type PluginSource } from "./sources.js";
import { pluginOrder } from "./strategy.js";

export type { FlotillaPlugin, PluginApi, PluginLog, RouteCandidate, RoutingStrategy, RouteRequestView, BeforeRouteHook, AuditRecordView, AfterResponseHook, RefusalStatus } from "./api.js";
export type { PluginStatus } from "./loader.js";
export type { BeforeRoute } from "./hooks.js";
export { registerPluginRoutes } from "./routes.js";

/** One plugin's import and setup may take this long before it counts as failed. */
const SETUP_TIMEOUT_MS = 30_000;

/** Plugins that keep the gateway from starting, each with its reason. */
export class PluginLoadError extends Error {
  constructor(readonly problems: string[]) {
    super(`cannot start with these plugins:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "PluginLoadError";
  }
}

/** The loaded plugins and what they add, ready to hand to the router, the proxy, the recorder and the notifier. */
export class Plugins {
  /** For the proxy: runs the before-route hooks; undefined when no plugin has one. */
  readonly beforeRoute: BeforeRoute | undefined;

  constructor(
    /** Every plugin found, loaded or failed, for `GET /api/plugins`. */
    readonly list: readonly PluginStatus[],
    private readonly additions: Additions,
    private readonly logs: PluginLogs,
    /** The strategy `routing.strategy` names, as the router's order; undefined: the built-in ranking. */
    readonly strategy: NodeOrder | undefined,
  ) {
    this.beforeRoute = beforeRouteRunner(additions.before, logs);
  }

  /** The plugins' notification channels, for the notifier. */
  get channels(): readonly NotificationChannel[] {
    return this.additions.channels;
  }

  /** The recorder followed by the after-response hooks; the recorder itself when no plugin has one. */
  afterResponse(record: (r: RequestRecord) => void): (r: RequestRecord) => void {
    return withAfterResponse(record, this.additions.after, this.logs);
  }

  /** The gateway's logger, once it exists: plugins' lines written before it are sent now. */
  attachLog(sink: LogSink): void {
    this.logs.attach(sink);
  }
}

type PluginConfig = Pick<Config, "data_dir" | "plugins"> & { routing: Pick<Config["routing"], "strategy"> };

/**
 * Finds, imports and sets up the configured plugins. With `plugins.required`
 * (the default) any plugin that fails stops the start, naming it and why: an
 * operator who installed a plugin counts on it. A `routing.strategy` that no
 * loaded plugin adds always stops it.
 */
export async function loadPlugins(config: PluginConfig): Promise<Plugins> {
  const logs = new PluginLogs();
  const { dir, packages, required, options } = config.plugins;
  let sources: PluginSource[];
  try {
    sources = [...pluginsIn(dir ?? join(config.data_dir, "plugins"), dir !== undefined), ...packages.map((name) => ({ kind: "package" as const, location: name }))];
  } catch (err) {
    throw new PluginLoadError([(err as Error).message]);
  }
  const { statuses, additions } = await loadAll(sources, { options, logFor: (name) => logs.forPlugin(name), timeoutMs: SETUP_TIMEOUT_MS });
  const failed = statuses.filter((s) => s.status === "failed");
  const problems = required ? failed.map((s) => `plugin ${s.name} (${s.source.location}): ${s.error}`) : [];
  if (!required) for (const s of failed) logs.forPlugin(s.name).warn(`not loaded (${s.source.location}): ${s.error}; starting without it (plugins.required is false)`);
  const wanted = config.routing.strategy;
  const strategy = wanted === undefined ? undefined : additions.strategies.get(wanted);
  if (wanted !== undefined && !strategy) {
    const known = [...additions.strategies.keys()];
    problems.push(`routing.strategy: no loaded plugin adds a strategy "${wanted}" (${known.length ? `added: ${known.join(", ")}` : "none is added"})`);
  }
  if (problems.length) throw new PluginLoadError(problems);
  return new Plugins(statuses, additions, logs, strategy && pluginOrder(strategy, logs));
}

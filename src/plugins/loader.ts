import { basename } from "node:path";
import type { NotificationChannel } from "../schedule/channel.js";
import { PluginRefusal, type AfterResponseHook, type BeforeRouteHook, type FlotillaPlugin, type PluginApi, type PluginLog, type RefusalStatus, type RoutingStrategy } from "./api.js";
import { specifierOf, type PluginSource } from "./sources.js";

/** A plugin as `GET /api/plugins` shows it. */
export interface PluginStatus {
  /** The plugin's name; for one that failed before saying it, its file or package name. */
  name: string;
  version: string | null;
  source: PluginSource;
  status: "loaded" | "failed";
  error: string | null;
  adds: { strategies: string[]; channels: string[]; hooks: Array<"beforeRoute" | "afterResponse"> };
}

export interface Added<T> {
  plugin: string;
  value: T;
}

/** What the loaded plugins add, across them all. */
export interface Additions {
  strategies: Map<string, Added<RoutingStrategy>>;
  channels: NotificationChannel[];
  before: Added<BeforeRouteHook>[];
  after: Added<AfterResponseHook>[];
}

export interface LoadOptions {
  /** `plugins.options`: each plugin's settings by its name. */
  options: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
  logFor(plugin: string): PluginLog;
  /** How long one plugin's import and setup may take. */
  timeoutMs: number;
}

const NAME = /^[A-Za-z0-9@][A-Za-z0-9._@/-]{0,127}$/;
const REFUSAL_STATUSES: readonly number[] = [400, 401, 403, 404, 429];

/** Imports and sets up each source in order; a plugin that fails adds nothing and is reported with its reason. */
export async function loadAll(sources: readonly PluginSource[], options: LoadOptions): Promise<{ statuses: PluginStatus[]; additions: Additions }> {
  const additions: Additions = { strategies: new Map(), channels: [], before: [], after: [] };
  const statuses: PluginStatus[] = [];
  for (const source of sources) {
    const status: PluginStatus = { name: fallbackName(source), version: null, source, status: "failed", error: null, adds: { strategies: [], channels: [], hooks: [] } };
    statuses.push(status);
    try {
      const plugin = await within(options.timeoutMs, "import and setup", async () => {
        const module = await importSource(source);
        status.name = declaredName(module) ?? status.name;
        const found = pluginOf(module);
        status.version = found.version ?? null;
        if (statuses.some((s) => s !== status && s.status === "loaded" && s.name === found.name)) throw new Error(`a plugin named "${found.name}" is already loaded`);
        const own = await setUp(found, additions, options);
        return { found, own };
      });
      merge(additions, plugin.own);
      status.adds = describe(plugin.own);
      status.status = "loaded";
    } catch (err) {
      status.error = (err as Error).message;
    }
  }
  return { statuses, additions };
}

function fallbackName(source: PluginSource): string {
  return source.kind === "package" ? source.location : basename(source.location);
}

async function importSource(source: PluginSource): Promise<unknown> {
  try {
    return await import(specifierOf(source));
  } catch (err) {
    throw new Error(`cannot be imported: ${String(err).split("\n")[0]}`);
  }
}

/** The name a module's default export gives itself, when it is a valid one: what a plugin of the wrong shape is reported by. */
function declaredName(module: unknown): string | undefined {
  const name = ((module as { default?: { name?: unknown } }).default ?? {}).name;
  return typeof name === "string" && NAME.test(name) ? name : undefined;
}

/** The module's default export, checked for the shape `{ name, version?, setup(api) }`. */
function pluginOf(module: unknown): FlotillaPlugin {
  const plugin = (module as { default?: unknown }).default;
  if (typeof plugin !== "object" || plugin === null) throw new Error("wrong shape: the module has no default export { name, version?, setup(api) }");
  const { name, version, setup } = plugin as Record<string, unknown>;
  if (typeof name !== "string" || !NAME.test(name)) throw new Error(`wrong shape: name must be 1-128 letters, digits, ".", "_", "-", "@" or "/" (got ${JSON.stringify(name)})`);
  if (version !== undefined && (typeof version !== "string" || version.length > 64)) throw new Error("wrong shape: version must be a string of at most 64 characters");
  if (typeof setup !== "function") throw new Error("wrong shape: setup(api) must be a function");
  return plugin as FlotillaPlugin;
}

/** Runs `setup` with an API that collects what the plugin adds; nothing may be added once it returned. */
async function setUp(plugin: FlotillaPlugin, all: Additions, options: LoadOptions): Promise<Additions> {
  const own: Additions = { strategies: new Map(), channels: [], before: [], after: [] };
  let open = true;
  const adding = (what: string) => {
    if (!open) throw new Error(`${what} must be added during setup`);
  };
  const api: PluginApi = {
    options: options.options[plugin.name] ?? {},
    log: options.logFor(plugin.name),
    addStrategy(name, strategy) {
      adding("a strategy");
      if (!NAME.test(name) || typeof strategy !== "function") throw new Error("addStrategy(name, strategy): a name and a function");
      const taken = all.strategies.get(name) ?? own.strategies.get(name);
      if (taken) throw new Error(`strategy "${name}" is already added by plugin "${taken.plugin}"`);
      own.strategies.set(name, { plugin: plugin.name, value: strategy });
    },
    addChannel(channel) {
      adding("a channel");
      if (typeof channel?.name !== "string" || !channel.name || typeof channel.send !== "function") throw new Error("addChannel(channel): an object with a name and send(notice, recipient)");
      if ([...all.channels, ...own.channels].some((c) => c.name === channel.name)) throw new Error(`channel "${channel.name}" is already added`);
      own.channels.push(channel);
    },
    beforeRoute(hook) {
      adding("a hook");
      if (typeof hook !== "function") throw new Error("beforeRoute(hook): a function");
      own.before.push({ plugin: plugin.name, value: hook });
    },
    afterResponse(hook) {
      adding("a hook");
      if (typeof hook !== "function") throw new Error("afterResponse(hook): a function");
      own.after.push({ plugin: plugin.name, value: hook });
    },
    refuse(message, status: RefusalStatus = 403) {
      return new PluginRefusal(String(message), REFUSAL_STATUSES.includes(status) ? status : 403, plugin.name);
    },
  };
  try {
    await plugin.setup(api);
  } catch (err) {
    throw new Error(`setup failed: ${(err as Error)?.message ?? String(err)}`);
  } finally {
    open = false;
  }
  return own;
}

function merge(all: Additions, own: Additions): void {
  for (const [name, added] of own.strategies) all.strategies.set(name, added);
  all.channels.push(...own.channels);
  all.before.push(...own.before);
  all.after.push(...own.after);
}

function describe(own: Additions): PluginStatus["adds"] {
  const hooks: PluginStatus["adds"]["hooks"] = [];
  if (own.before.length) hooks.push("beforeRoute");
  if (own.after.length) hooks.push("afterResponse");
  return { strategies: [...own.strategies.keys()], channels: own.channels.map((c) => c.name), hooks };
}

/** `work`, or an error after `ms`: a plugin that never finishes its start must not hold the gateway's. */
async function within<T>(ms: number, what: string, work: () => Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([work(), late]);
  } finally {
    clearTimeout(timer);
  }
}

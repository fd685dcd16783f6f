import { Type } from "@sinclair/typebox";

/** Scheduled jobs (seed 004). */
export const ScheduleSchema = Type.Object(
  {
    /** Fire scheduled jobs from this replica (replicas sharing a database fire each run once between them). */
    enabled: Type.Boolean({ default: true }),
    /** The longest the scheduler waits before looking again for jobs made or changed on other replicas. */
    tick_ms: Type.Integer({ minimum: 50, maximum: 60_000, default: 1000 }),
    /** The Docker Engine API that job discovery reads containers' labels from: `unix:///path` or `tcp://host:port`; empty: no discovery. */
    docker_host: Type.String({ maxLength: 1024, pattern: "^(|unix:///.+|tcp://[^/]+/?)$", default: "unix:///var/run/docker.sock" }),
  },
  { additionalProperties: false, default: {} },
);

/** Notifications of server events (seed 004): Telegram, webhooks, and channels plugins add. */
export const NotificationsSchema = Type.Object(
  {
    /** Send notifications from this replica (replicas sharing a database send each one once between them). */
    enabled: Type.Boolean({ default: true }),
    /** After a notice of one event about one server, how long the same one is not sent again (a flapping server). */
    cooldown_ms: Type.Integer({ minimum: 1000, maximum: 7 * 86_400_000, default: 1_800_000 }),
    /** Sends per recipient before it is given up; each retry waits twice the one before, from retry_base_ms. */
    max_attempts: Type.Integer({ minimum: 1, maximum: 10, default: 3 }),
    retry_base_ms: Type.Integer({ minimum: 10, maximum: 600_000, default: 2000 }),
    timeout_ms: Type.Integer({ minimum: 100, maximum: 60_000, default: 10_000 }),
    /** Telegram's Bot API; another address (a proxy, a test double) is the operator's to give. */
    telegram_api_url: Type.String({ pattern: "^https?://", maxLength: 2048, default: "https://api.telegram.org" }),
    /** An address that answers while the gateway is online (e.g. https://1.1.1.1); without answer, `server.down` notices are held until it does. Unset: no check. */
    reference_url: Type.Optional(Type.String({ pattern: "^https?://", maxLength: 2048 })),
    /** While the reference does not answer, how often it is asked again. */
    reference_check_ms: Type.Integer({ minimum: 100, maximum: 600_000, default: 30_000 }),
  },
  { additionalProperties: false, default: {} },
);

/** Plugins (docs/plugins.md): ES modules that add routing strategies, notification channels and request hooks. */
export const PluginsSchema = Type.Object(
  {
    /** Every `*.js`/`*.mjs` file and every folder with a package.json here is a plugin; default `<data_dir>/plugins`. */
    dir: Type.Optional(Type.String({ minLength: 1, maxLength: 4096 })),
    /** npm packages, imported from the project's node_modules. */
    packages: Type.Array(Type.String({ maxLength: 214, pattern: "^(@[a-z0-9-~][a-z0-9-._~]*/)?[a-z0-9-~][a-z0-9-._~]*$" }), { default: [] }),
    /** A plugin that fails to load stops the start; false: it is listed as failed and the gateway starts without it. */
    required: Type.Boolean({ default: true }),
    /** Each plugin's own settings, by plugin name: what its setup reads as `api.options`. */
    options: Type.Record(Type.String({ minLength: 1, maxLength: 128 }), Type.Record(Type.String(), Type.Unknown()), { default: {} }),
  },
  { additionalProperties: false, default: {} },
);

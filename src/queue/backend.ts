import { Type, type Static } from "@sinclair/typebox";
import { ReplyError } from "ioredis";
import type { Config } from "../config/index.js";
import { FlotillaError } from "../kernel/index.js";
import { bullmqKeyPrefix, redisTaskRepo, taskRepoInThread, type Store, type TaskRepo } from "../store/index.js";

/** The database; Redis with Flotilla's own scripts; Redis as BullMQ queues. */
export type TaskBackend = "sql" | "redis" | "bullmq";

/** Where the Lua backend keeps its task keys, under the gateway's Redis prefix. */
const luaTaskPrefix = (redisPrefix: string) => `${redisPrefix}tasks:`;

interface OutageLog {
  warn(message: string): void;
}

const OUTAGE_LOG_EVERY_MS = 10_000;

/** Tasks live in Redis when the config says so, or by default once there is a Redis; else in the database. */
export function taskBackendOf(config: Pick<Config, "queue_backend" | "redis_url">): TaskBackend {
  return config.queue_backend ?? (config.redis_url ? "redis" : "sql");
}

/**
 * The task backend the config chooses, and how to let go of it. On SQLite the task statements run in a thread of their own.
 * BullMQ (some 300 modules) is loaded only when it is the backend: every other start, and every CLI command, goes without it.
 */
export async function openTaskBackend(config: Config, store: Store, log: OutageLog): Promise<{ backend: TaskBackend; tasks: TaskRepo; close(): Promise<void> }> {
  const backend = taskBackendOf(config);
  if (backend === "sql") {
    if (store.dialect !== "sqlite") return { backend: "sql", tasks: store.tasks, close: async () => undefined };
    const tasks = taskRepoInThread({ dataDir: config.data_dir });
    return { backend: "sql", tasks, close: () => tasks.close() };
  }
  const tasks =
    backend === "bullmq"
      ? (await import("../store/bullmq-task-repo.js")).bullmqTaskRepo(config.redis_url as string, config.redis_prefix)
      : redisTaskRepo(config.redis_url as string, luaTaskPrefix(config.redis_prefix));
  return { backend, tasks: unavailableAs503(tasks, log), close: () => tasks.close() };
}

/**
 * A Redis that does not answer is an outage, not a bug: its calls fail as 503
 * store_unavailable (Retry-After: 1) rather than 500. Redis's own refusals
 * (a script error) stay internal errors.
 */
export function unavailableAs503(tasks: TaskRepo, log: OutageLog): TaskRepo {
  const wrapped = {} as Record<string, unknown>;
  let loggedAt = -Infinity;
  for (const [name, method] of Object.entries(tasks) as Array<[string, (...args: unknown[]) => Promise<unknown>]>) {
    wrapped[name] = (...args: unknown[]) =>
      method(...args).catch((err: unknown) => {
        if (err instanceof ReplyError || err instanceof FlotillaError) throw err;
        // Once per outage-sized stretch, not once per request.
        if (Date.now() - loggedAt > OUTAGE_LOG_EVERY_MS) {
          loggedAt = Date.now();
          log.warn(`the task store (Redis) is not answering: ${(err as Error).message}`);
        }
        throw new FlotillaError("store_unavailable", "the task store (Redis) is not answering; try again shortly", { cause: err, headers: { "retry-after": "1" } });
      });
  }
  return wrapped as unknown as TaskRepo;
}

/**
 * Tasks do not move between backends: with tasks on Redis, unfinished ones left
 * in the database (from before REDIS_URL was set) would wait unseen. Says so once at start.
 */
export async function warnOfTasksLeftInDatabase(backend: TaskBackend, store: Store, log: OutageLog): Promise<number> {
  if (backend === "sql") return 0;
  const row = await store.db
    .selectFrom("tasks")
    .select((eb) => eb.fn.countAll<number>().as("n"))
    .where("state", "in", ["pending", "scheduled", "active", "retry"])
    .executeTakeFirstOrThrow();
  const n = Number(row.n);
  if (n > 0) log.warn(`${n} unfinished tasks are in the database, but tasks now live in Redis: they will not run unless queue_backend is set to sql`);
  return n;
}

export const RedisAccess = Type.Object({
  addr: Type.String({ description: "host:port" }),
  password: Type.String(),
  db: Type.Integer(),
  key_prefix: Type.String({ description: "the prefix of the task keys in that Redis" }),
});

/** Seed 001's Redis credentials, when tasks live in Redis and the operator allows workers to have them. */
export function redisAccess(config: Pick<Config, "queue_workers" | "queue_backend" | "redis_url" | "redis_prefix">): Static<typeof RedisAccess> | null {
  const backend = taskBackendOf(config);
  if (!config.queue_workers.share_redis || backend === "sql" || !config.redis_url) return null;
  const url = new URL(config.redis_url);
  return {
    addr: `${url.hostname}:${url.port || "6379"}`,
    password: decodeURIComponent(url.password),
    db: Number(url.pathname.slice(1) || 0),
    key_prefix: backend === "bullmq" ? bullmqKeyPrefix(config.redis_prefix) : luaTaskPrefix(config.redis_prefix),
  };
}


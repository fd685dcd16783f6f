import { Type, type Static } from "@sinclair/typebox";
import type { Config } from "../config/index.js";
import { redisTaskRepo, type Store, type TaskRepo } from "../store/index.js";

export type TaskBackend = "sql" | "redis";

/** Tasks live in Redis when the config says so, or by default once there is a Redis; else in the database. */
export function taskBackendOf(config: Pick<Config, "queue_backend" | "redis_url">): TaskBackend {
  return config.queue_backend ?? (config.redis_url ? "redis" : "sql");
}

/** The task backend the config chooses, and how to let go of it. */
export function openTaskBackend(config: Config, store: Store): { backend: TaskBackend; tasks: TaskRepo; close(): Promise<void> } {
  if (taskBackendOf(config) === "sql") return { backend: "sql", tasks: store.tasks, close: async () => undefined };
  const tasks = redisTaskRepo(config.redis_url as string, `${config.redis_prefix}tasks:`);
  return { backend: "redis", tasks, close: () => tasks.close() };
}

export const RedisAccess = Type.Object({
  addr: Type.String({ description: "host:port" }),
  password: Type.String(),
  db: Type.Integer(),
  key_prefix: Type.String({ description: "the prefix of the task keys in that Redis" }),
});

/** Seed 001's Redis credentials, when tasks live in Redis and the operator allows workers to have them. */
export function redisAccess(config: Pick<Config, "queue_workers" | "queue_backend" | "redis_url" | "redis_prefix">): Static<typeof RedisAccess> | null {
  if (!config.queue_workers.share_redis || taskBackendOf(config) !== "redis" || !config.redis_url) return null;
  const url = new URL(config.redis_url);
  return {
    addr: `${url.hostname}:${url.port || "6379"}`,
    password: decodeURIComponent(url.password),
    db: Number(url.pathname.slice(1) || 0),
    key_prefix: `${config.redis_prefix}tasks:`,
  };
}


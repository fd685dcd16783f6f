import { Type, type Static } from "@sinclair/typebox";

/** A task may run for at most 30 days. */
export const MAX_TASK_TIMEOUT_SECS = 30 * 86_400;
/** Retries back off doubling from a queue's backoff_ms, never waiting more than a day. */
export const MAX_RETRY_DELAY_MS = 86_400_000;

/** seed 001's deployment: what a queue worker clones and starts. */
export const DeploymentSpec = Type.Object(
  {
    git_url: Type.String({ minLength: 1 }),
    branch: Type.String({ minLength: 1, default: "main" }),
    startup_cmd: Type.String({ minLength: 1 }),
    startup_timeout_secs: Type.Integer({ minimum: 1, maximum: 86_400, default: 300 }),
    requirements_file: Type.Optional(Type.String({ minLength: 1 })),
  },
  { additionalProperties: false },
);

/**
 * One queue. `consumer: gateway`: each task is an inference request the
 * gateway runs on the fleet at batch priority; `workers`: queue workers
 * (`flotilla worker --queue`) take its tasks.
 */
export const QueueSpec = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 64, pattern: "^[A-Za-z0-9._-]+$" }),
    /** Higher runs first when queues compete. */
    priority: Type.Integer({ minimum: 0, maximum: 100, default: 5 }),
    mode: Type.Union([Type.Literal("one_shot"), Type.Literal("long_running")], { default: "one_shot" }),
    consumer: Type.Union([Type.Literal("gateway"), Type.Literal("workers")], { default: "gateway" }),
    /** Tasks run at once (per replica, for the gateway's own consumer). */
    concurrency: Type.Integer({ minimum: 1, maximum: 1024, default: 4 }),
    timeout_secs: Type.Integer({ minimum: 1, maximum: MAX_TASK_TIMEOUT_SECS, default: 300 }),
    /** Attempts after the first. */
    retries: Type.Integer({ minimum: 0, maximum: 100, default: 3 }),
    /** The first retry waits this long; each next one twice as long. */
    backoff_ms: Type.Integer({ minimum: 0, maximum: MAX_RETRY_DELAY_MS, default: 1000 }),
    /** A task out of attempts is archived (kept, state `archived`) rather than failed. */
    dead_letter: Type.Boolean({ default: true }),
    /** Told of each task that ends (POST, the task as JSON). */
    webhook_url: Type.Optional(Type.String({ pattern: "^https?://" })),
    deployment: Type.Optional(DeploymentSpec),
  },
  { additionalProperties: false },
);
export type QueueSpec = Static<typeof QueueSpec>;

import { Type, type Static } from "@sinclair/typebox";
import type { FastifyInstance } from "fastify";
import type { Config } from "../config/index.js";
import { FlotillaError, isoTime } from "../kernel/index.js";
import { RedisAccess, redisAccess } from "./backend.js";
import type { QueueWorkerRow, TaskRow } from "../store/index.js";
import type { Queues } from "./service.js";

const WorkerId = Type.String({ minLength: 1, maxLength: 128, pattern: "^[A-Za-z0-9._:@-]+$" });
const RegisterBody = Type.Object({ worker_id: WorkerId, queue: Type.String({ minLength: 1 }) }, { additionalProperties: false });
const ClaimBody = Type.Object(
  {
    worker_id: WorkerId,
    queue: Type.String({ minLength: 1 }),
    wait_ms: Type.Integer({ minimum: 0, maximum: 30_000, default: 0 }),
    max_tasks: Type.Integer({ minimum: 1, maximum: 100, default: 1, description: "take up to this many ready tasks at once (each has its own lease)" }),
  },
  { additionalProperties: false },
);
const HeldBody = Type.Object({ worker_id: WorkerId }, { additionalProperties: false });
const CompleteBody = Type.Object({ worker_id: WorkerId, result: Type.Unknown() }, { additionalProperties: false });
const CompleteManyBody = Type.Object(
  { worker_id: WorkerId, results: Type.Array(Type.Object({ id: Type.String({ minLength: 1 }), result: Type.Unknown() }, { additionalProperties: false }), { minItems: 1, maxItems: 100 }) },
  { additionalProperties: false },
);
const FailBody = Type.Object({ worker_id: WorkerId, error: Type.String({ maxLength: 10_000 }), retryable: Type.Boolean({ default: true }) }, { additionalProperties: false });
const TaskParams = Type.Object({ id: Type.String({ minLength: 1 }) });
const ClaimedTask = Type.Object({ id: Type.String(), queue: Type.String(), data: Type.Unknown(), timeout_ms: Type.Integer(), attempts: Type.Integer(), max_attempts: Type.Integer() });
const WorkerView = Type.Object({
  worker_id: Type.String(),
  queue: Type.String(),
  status: Type.Union([Type.Literal("online"), Type.Literal("offline")]),
  registered_at: Type.String(),
  last_seen: Type.String(),
  current_task: Type.Union([Type.String(), Type.Null()]),
  completed: Type.Integer(),
  failed: Type.Integer(),
});

function claimedView(task: TaskRow): Static<typeof ClaimedTask> {
  return { id: task.id, queue: task.queue, data: JSON.parse(task.data) as unknown, timeout_ms: task.timeout_ms, attempts: task.attempts, max_attempts: task.max_attempts };
}

/** A worker not heard from for this long is listed offline. */
const OFFLINE_AFTER_MS = 30_000;
const CLAIM_POLL_MS = 100;

function workerView(row: QueueWorkerRow, now = Date.now()): Static<typeof WorkerView> {
  return {
    worker_id: row.id,
    queue: row.queue,
    status: now - row.last_seen < OFFLINE_AFTER_MS ? "online" : "offline",
    registered_at: isoTime(row.registered_at),
    last_seen: isoTime(row.last_seen),
    current_task: row.current_task,
    completed: row.completed,
    failed: row.failed,
  };
}

/**
 * Seed 001's queue workers, over the gateway's own API (Redis access is handed
 * out only when the operator allows it): register, claim tasks (long-polling),
 * heartbeat a lease, complete or fail. A worker that stops heartbeating loses
 * the task to a retry.
 */
export function registerWorkerQueueRoutes(app: FastifyInstance, queues: Queues, gatewayConfig: Config): void {
  const tags = ["queue"];
  const config = { auth: "admin" as const };
  // Results are answers of models: as large as inference bodies.
  const handedIn = { ...config, body: "inference" as const };
  const { tasks } = queues;

  const registered = async (workerId: string) => {
    const row = await tasks.worker(workerId);
    if (!row) throw new FlotillaError("not_found", `worker "${workerId}" is not registered: POST /worker/register first`, { param: "worker_id" });
    return row;
  };
  const held = async (id: string, workerId: string): Promise<TaskRow> => {
    const row = await tasks.get(id);
    if (!row) throw new FlotillaError("not_found", `no task "${id}"`);
    if (row.state !== "active" || row.lease_owner !== workerId) throw new FlotillaError("conflict", `worker "${workerId}" does not hold task "${id}" (its lease ran out, or it was cancelled)`);
    return row;
  };

  const leaseLost = (id: string, workerId: string) => new FlotillaError("conflict", `worker "${workerId}" no longer holds task "${id}"`);

  /** Records a result in one write; only when the lease is gone is the task read, to say why. */
  const complete = async (id: string, workerId: string, result: unknown): Promise<string> => {
    const row = await queues.succeeded(id, workerId, result);
    if (!row) {
      await held(id, workerId);
      throw leaseLost(id, workerId);
    }
    queues.ended(row);
    return row.state;
  };

  app.post(
    "/worker/register",
    {
      schema: {
        summary: "Register a queue worker: the queue's configuration and its deployment",
        tags,
        body: RegisterBody,
        response: {
          200: Type.Object({
            redis: Type.Union([RedisAccess, Type.Null()], { description: "null unless the queue's tasks live in Redis and queue_workers.share_redis allows handing it out" }),
            queue: Type.Object({ name: Type.String(), priority: Type.Integer(), mode: Type.String() }),
            deployment: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()]),
            lease: Type.Object({ heartbeat_ms: Type.Integer(), grace_ms: Type.Integer() }),
          }),
        },
      },
      config,
    },
    async function registerQueueWorker(req) {
      const body = req.body as Static<typeof RegisterBody>;
      const spec = queues.spec(body.queue);
      if (spec.consumer !== "workers") throw new FlotillaError("conflict", `queue "${spec.name}" is run by the gateway itself; workers take queues with consumer: workers`, { param: "queue" });
      await tasks.registerWorker(body.worker_id, spec.name, Date.now());
      return {
        redis: redisAccess(gatewayConfig),
        queue: { name: spec.name, priority: spec.priority, mode: spec.mode },
        deployment: spec.deployment ?? null,
        lease: { heartbeat_ms: Math.max(1000, Math.floor(queues.leaseGraceMs / 3)), grace_ms: queues.leaseGraceMs },
      };
    },
  );

  app.post(
    "/worker/tasks/claim",
    {
      schema: {
        summary: "Take the next task of the worker's queue (or up to max_tasks), waiting up to wait_ms for one (204: none)",
        tags,
        body: ClaimBody,
        response: { 200: Type.Object({ task: ClaimedTask, tasks: Type.Array(ClaimedTask, { description: "every task taken, the first being `task`" }) }), 204: Type.Null() },
      },
      config,
    },
    async function claimTask(req, reply) {
      const body = req.body as Static<typeof ClaimBody>;
      const worker = await registered(body.worker_id);
      if (worker.queue !== body.queue) throw new FlotillaError("conflict", `worker "${body.worker_id}" is registered for queue "${worker.queue}"`, { param: "queue" });
      const until = Date.now() + body.wait_ms;
      let gone = false;
      req.raw.once("close", () => (gone = true));
      for (;;) {
        const claimed = await queues.claimFor(body.queue, body.worker_id, body.max_tasks);
        if (claimed.length > 0) {
          await tasks.touchWorker(body.worker_id, Date.now(), { currentTask: claimed[claimed.length - 1]?.id });
          const views = claimed.map(claimedView);
          return { task: views[0], tasks: views };
        }
        if (gone || Date.now() >= until) break;
        await new Promise((resolve) => setTimeout(resolve, CLAIM_POLL_MS));
      }
      await tasks.touchWorker(body.worker_id, Date.now(), {});
      return reply.code(204).send();
    },
  );

  app.post(
    "/worker/tasks/:id/heartbeat",
    { schema: { summary: "Keep a task's lease; says whether it was cancelled", tags, params: TaskParams, body: HeldBody, response: { 200: Type.Object({ cancel: Type.Boolean() }) } }, config },
    async function taskHeartbeat(req) {
      const { id } = req.params as { id: string };
      const { worker_id } = req.body as Static<typeof HeldBody>;
      const task = await held(id, worker_id);
      const now = Date.now();
      const { held: still, cancelRequested } = await tasks.heartbeat(id, worker_id, now + task.timeout_ms + queues.leaseGraceMs, now);
      if (!still) throw leaseLost(id, worker_id);
      // A cancel ends the task here and now; the worker is told to drop it.
      if (cancelRequested) {
        const ended = await tasks.finish(id, worker_id, { state: "cancelled" }, now);
        if (ended) queues.ended(ended);
      }
      await tasks.touchWorker(worker_id, now, cancelRequested ? { currentTask: null } : {});
      return { cancel: cancelRequested };
    },
  );

  app.post(
    "/worker/tasks/:id/complete",
    { schema: { summary: "Hand in a task's result", tags, params: TaskParams, body: CompleteBody, response: { 200: Type.Object({ state: Type.String() }) } }, config: handedIn },
    async function completeTask(req) {
      const { id } = req.params as { id: string };
      const body = req.body as Static<typeof CompleteBody>;
      const state = await complete(id, body.worker_id, body.result);
      await tasks.touchWorker(body.worker_id, Date.now(), { currentTask: null, completed: 1 });
      return { state };
    },
  );

  app.post(
    "/worker/tasks/complete",
    {
      schema: {
        summary: "Hand in the results of several tasks at once (one answer per task: its state, or why it was refused)",
        tags,
        body: CompleteManyBody,
        response: { 200: Type.Object({ results: Type.Array(Type.Object({ id: Type.String(), state: Type.Optional(Type.String()), error: Type.Optional(Type.String()) })) }) },
      },
      config: handedIn,
    },
    async function completeTasks(req) {
      const { worker_id, results } = req.body as Static<typeof CompleteManyBody>;
      const answers = await Promise.all(
        results.map(({ id, result }) =>
          complete(id, worker_id, result).then(
            (state) => ({ id, state }),
            (err: Error) => {
              if (!(err instanceof FlotillaError)) throw err;
              return { id, error: err.message };
            },
          ),
        ),
      );
      const completed = answers.filter((a) => "state" in a).length;
      await tasks.touchWorker(worker_id, Date.now(), { currentTask: null, completed });
      return { results: answers };
    },
  );

  app.post(
    "/worker/tasks/:id/fail",
    { schema: { summary: "Report a failed attempt (retried while attempts remain, unless retryable is false)", tags, params: TaskParams, body: FailBody, response: { 200: Type.Object({ state: Type.String() }) } }, config: handedIn },
    async function failTask(req) {
      const { id } = req.params as { id: string };
      const body = req.body as Static<typeof FailBody>;
      const after = await queues.failed(await held(id, body.worker_id), body.worker_id, body.error, body.retryable);
      if (!after) throw leaseLost(id, body.worker_id);
      await tasks.touchWorker(body.worker_id, Date.now(), { currentTask: null, failed: 1 });
      queues.ended(after);
      return { state: after.state };
    },
  );

  app.get("/api/cli/workers", { schema: { summary: "Queue workers that registered", tags, response: { 200: Type.Object({ workers: Type.Array(WorkerView) }) } }, config }, async function listWorkers() {
    return { workers: (await tasks.workers()).map((w) => workerView(w)) };
  });
  app.get(
    "/api/cli/workers/:worker_id",
    { schema: { summary: "One queue worker", tags, params: Type.Object({ worker_id: Type.String() }), response: { 200: WorkerView } }, config },
    async function getWorker(req) {
      return workerView(await registered((req.params as { worker_id: string }).worker_id));
    },
  );
}

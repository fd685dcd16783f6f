import { Type, type Static } from "@sinclair/typebox";
import type { FastifyInstance } from "fastify";
import { FlotillaError, isoTime, isoTimeOrNull, type OutboundGuard, type Principal } from "../kernel/index.js";
import type { TaskRow, TaskState } from "../store/index.js";
import type { Queues } from "./service.js";
import { MAX_TASK_TIMEOUT_SECS, QueueSpec } from "./spec.js";

const STATES: TaskState[] = ["pending", "scheduled", "active", "retry", "completed", "failed", "cancelled", "archived"];
const State = Type.Union(STATES.map((s) => Type.Literal(s)));

const AddBody = Type.Object(
  {
    queue: Type.String({ minLength: 1 }),
    /** seconds; the queue's timeout_secs when absent */
    timeout: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_TASK_TIMEOUT_SECS })),
    data: Type.Unknown(),
    /** Told when the task ends; it must be a URL the gateway may reach (outbound.allow lets an operator allow internal ones). */
    webhook_url: Type.Optional(Type.String({ pattern: "^https?://", maxLength: 2048 })),
    /** seconds from now: the task waits (`scheduled`) until then */
    delay: Type.Optional(Type.Integer({ minimum: 0, maximum: 366 * 86_400 })),
  },
  { additionalProperties: false },
);
const Queued = Type.Object({ id: Type.String(), queue: Type.String(), state: State });
const Info = Type.Object({ info: Queued });
const BULK_MAX = 1000;
const BulkBody = Type.Object(
  {
    queue: Type.String({ minLength: 1 }),
    tasks: Type.Array(Type.Omit(AddBody, ["queue"], { additionalProperties: false }), { minItems: 1, maxItems: BULK_MAX }),
  },
  { additionalProperties: false },
);
const TaskView = Type.Object({
  id: Type.String(),
  queue: Type.String(),
  state: State,
  data: Type.Unknown(),
  result: Type.Unknown(),
  error: Type.Union([Type.String(), Type.Null()]),
  attempts: Type.Integer(),
  max_attempts: Type.Integer(),
  created_at: Type.String(),
  run_at: Type.String(),
  started_at: Type.Union([Type.String(), Type.Null()]),
  finished_at: Type.Union([Type.String(), Type.Null()]),
});
const QueueView = Type.Object({
  name: Type.String(),
  priority: Type.Integer(),
  mode: Type.String(),
  consumer: Type.String(),
  concurrency: Type.Integer(),
  paused: Type.Boolean(),
  counts: Type.Record(Type.String(), Type.Integer()),
  /** tasks not yet ended */
  size: Type.Integer(),
  throughput_per_minute: Type.Integer(),
  /** how long the oldest task ready to run has waited */
  latency_ms: Type.Integer(),
  source: Type.String(),
});
const ListQuery = Type.Object({ state: Type.Optional(State), limit: Type.Integer({ minimum: 1, maximum: 1000, default: 50 }), offset: Type.Integer({ minimum: 0, maximum: 1_000_000_000, default: 0 }) });

const parsed = (json: string | null) => (json === null ? null : (JSON.parse(json) as unknown));

export function taskView(row: TaskRow): Static<typeof TaskView> {
  return {
    id: row.id,
    queue: row.queue,
    state: row.state,
    data: parsed(row.data),
    result: parsed(row.result),
    error: row.error,
    attempts: row.attempts,
    max_attempts: row.max_attempts,
    created_at: isoTime(row.created_at),
    run_at: isoTime(row.run_at),
    started_at: isoTimeOrNull(row.started_at),
    finished_at: isoTimeOrNull(row.finished_at),
  };
}

/** Seed 001's queue API (/queue/*) and its CLI API (/api/cli/*). */
export function registerQueueRoutes(app: FastifyInstance, queues: Queues, outbound: Pick<OutboundGuard, "urlProblem">): void {
  const tags = ["queue"];
  const admin = { auth: "admin" as const };
  const { tasks } = queues;

  const findTask = async (id: string, queue?: string) => {
    const row = await tasks.get(id);
    if (!row || (queue !== undefined && row.queue !== queue)) throw new FlotillaError("not_found", `no task "${id}"${queue ? ` in queue "${queue}"` : ""}`);
    return row;
  };

  /**
   * Refuses the first webhook_url of `urls` that the gateway may not reach, naming it by `param`; each
   * distinct URL is resolved once. The queue's own URL (from the operator's YAML) is the operator's to choose.
   */
  const checkWebhookUrls = async (queue: string, urls: Array<string | undefined>, param: (index: number) => string) => {
    queues.spec(queue); // an unknown queue is a 404 before any URL is judged
    const verdicts = new Map<string, Promise<string | undefined>>();
    for (const url of urls) if (url !== undefined && !queues.configs.isQueueWebhook(queue, url) && !verdicts.has(url)) verdicts.set(url, outbound.urlProblem(url));
    for (const [index, url] of urls.entries()) {
      const problem = url === undefined ? undefined : await verdicts.get(url);
      if (problem) throw new FlotillaError("invalid_request", `${param(index)} is refused: ${problem}`, { param: param(index) });
    }
  };

  const add = async (body: Static<typeof AddBody>, principal: Principal | undefined) =>
    queues.enqueue({
      queue: body.queue,
      data: body.data,
      timeoutSecs: body.timeout,
      webhookUrl: body.webhook_url,
      runAt: body.delay ? Date.now() + body.delay * 1000 : undefined,
      userId: principal?.userId,
      keyId: principal?.keyId,
    });

  /** The gateway's own queues (background responses) take tasks from the gateway alone. */
  const takesTasks = (queue: string) => {
    if (queues.configs.isOwn(queue)) throw new FlotillaError("invalid_request", `queue "${queue}" is the gateway's own: it takes no tasks from this API`, { param: "queue" });
  };

  const addOne = async (body: Static<typeof AddBody>, principal: Principal | undefined) => {
    takesTasks(body.queue);
    await checkWebhookUrls(body.queue, [body.webhook_url], () => "webhook_url");
    return add(body, principal);
  };

  app.post("/queue/add", { schema: { summary: "Queue a task", tags, body: AddBody, response: { 200: Info } }, config: { auth: "inference", guests: false, body: "inference" } }, async function addTask(req) {
    const row = await addOne(req.body as Static<typeof AddBody>, req.principal);
    return { info: { id: row.id, queue: row.queue, state: row.state } };
  });

  app.post(
    "/queue/bulk",
    {
      schema: { summary: `Queue up to ${BULK_MAX} tasks of one queue in one call, stored together`, tags, body: BulkBody, response: { 200: Type.Object({ tasks: Type.Array(Queued) }) } },
      config: { auth: "inference", guests: false, body: "inference" },
    },
    async function addTasks(req) {
      const { queue, tasks: items } = req.body as Static<typeof BulkBody>;
      takesTasks(queue);
      await checkWebhookUrls(queue, items.map((item) => item.webhook_url), (index) => `tasks[${index}].webhook_url`);
      // Enqueues started in one turn share one write; every item is checked before any is queued.
      const rows = await Promise.all(items.map((item) => add({ ...item, queue }, req.principal)));
      return { tasks: rows.map((row) => ({ id: row.id, queue: row.queue, state: row.state })) };
    },
  );

  app.get(
    "/queue/:task_id/:queue_name",
    {
      schema: {
        summary: "A task's state and result",
        tags,
        params: Type.Object({ task_id: Type.String(), queue_name: Type.String() }),
        response: { 200: Type.Object({ info: TaskView }) },
      },
      // Whose the task is: who queued it; the gateway's own admin key queues tasks only admins see.
      config: { auth: "owner", owner: async (req) => (await tasks.get((req.params as { task_id: string }).task_id))?.user_id },
    },
    async function getTask(req) {
      const { task_id, queue_name } = req.params as { task_id: string; queue_name: string };
      return { info: taskView(await findTask(task_id, queue_name)) };
    },
  );

  app.post("/api/cli/tasks", { schema: { summary: "Queue a task", tags, body: AddBody, response: { 200: Info } }, config: { ...admin, body: "inference" } }, async function cliAddTask(req) {
    const row = await addOne(req.body as Static<typeof AddBody>, req.principal);
    return { info: { id: row.id, queue: row.queue, state: row.state } };
  });

  const queueView = async (name: string): Promise<Static<typeof QueueView>> => {
    const spec = queues.spec(name);
    const now = Date.now();
    const { counts, completedLastMinute, oldestReadyAt } = await tasks.counts(name, now);
    const all = Object.fromEntries(STATES.map((s) => [s, counts[s] ?? 0]));
    const source = queues.configs.list().find((s) => s.spec.name === name)?.file ?? "config";
    return {
      name,
      priority: spec.priority,
      mode: spec.mode,
      consumer: spec.consumer,
      concurrency: spec.concurrency,
      paused: queues.isPaused(name),
      counts: all,
      size: all.pending + all.scheduled + all.active + all.retry,
      throughput_per_minute: completedLastMinute,
      latency_ms: oldestReadyAt === null ? 0 : now - oldestReadyAt,
      source,
    };
  };

  app.get("/api/cli/queues", { schema: { summary: "Every queue with its counts, throughput and latency", tags, response: { 200: Type.Object({ queues: Type.Array(QueueView) }) } }, config: admin }, async function listQueues() {
    return { queues: await Promise.all(queues.configs.list().map((s) => queueView(s.spec.name))) };
  });
  const QueueParams = Type.Object({ queue: Type.String() });
  app.get("/api/cli/queues/:queue", { schema: { summary: "One queue", tags, params: QueueParams, response: { 200: QueueView } }, config: admin }, async function getQueue(req) {
    return queueView((req.params as { queue: string }).queue);
  });
  for (const [verb, paused] of [["pause", true], ["unpause", false]] as const) {
    app.post(`/api/cli/queues/:queue/${verb}`, { schema: { summary: paused ? "Stop handing out the queue's tasks" : "Hand out the queue's tasks again", tags, params: QueueParams, response: { 200: QueueView } }, config: admin }, async function pause(req) {
      const { queue } = req.params as { queue: string };
      await queues.setPaused(queue, paused);
      return queueView(queue);
    });
  }

  app.get(
    "/api/cli/queues/:queue/tasks",
    { schema: { summary: "A queue's tasks, newest first (by state, paginated)", tags, params: QueueParams, querystring: ListQuery, response: { 200: Type.Object({ tasks: Type.Array(TaskView), limit: Type.Integer(), offset: Type.Integer() }) } }, config: admin },
    async function listTasks(req) {
      const { queue } = req.params as { queue: string };
      queues.spec(queue);
      const query = req.query as Static<typeof ListQuery>;
      return { tasks: (await tasks.list(queue, query.state, query.limit, query.offset)).map(taskView), limit: query.limit, offset: query.offset };
    },
  );
  const TaskParams = Type.Object({ queue: Type.String(), task_id: Type.String() });
  app.get("/api/cli/queues/:queue/tasks/:task_id", { schema: { summary: "One task", tags, params: TaskParams, response: { 200: TaskView } }, config: admin }, async function getQueueTask(req) {
    const { queue, task_id } = req.params as { queue: string; task_id: string };
    return taskView(await findTask(task_id, queue));
  });
  app.get("/api/cli/tasks/:task_id", { schema: { summary: "One task, by its id alone", tags, params: Type.Object({ task_id: Type.String() }), response: { 200: TaskView } }, config: admin }, async function getAnyTask(req) {
    return taskView(await findTask((req.params as { task_id: string }).task_id));
  });
  app.delete("/api/cli/tasks/:task_id", { schema: { summary: "Cancel a task (a running one is told to stop)", tags, params: Type.Object({ task_id: Type.String() }), response: { 200: TaskView } }, config: admin }, async function cancelTask(req) {
    const { task_id } = req.params as { task_id: string };
    await findTask(task_id);
    return taskView((await queues.cancel(task_id)) as TaskRow);
  });
  app.delete("/api/cli/queues/:queue/tasks/:task_id", { schema: { summary: "Delete a task", tags, params: TaskParams }, config: admin }, async function deleteTask(req, reply) {
    const { queue, task_id } = req.params as { queue: string; task_id: string };
    const row = await findTask(task_id, queue);
    if (row.state === "active") throw new FlotillaError("conflict", `task "${task_id}" is running: cancel it first`);
    await tasks.remove(task_id);
    return reply.code(204).send();
  });

  const ConfigView = Type.Object({ spec: QueueSpec, source: Type.String() });
  app.get("/api/cli/configs", { schema: { summary: "Every queue's configuration and where it comes from", tags, response: { 200: Type.Object({ configs: Type.Array(ConfigView) }) } }, config: admin }, async function listConfigs() {
    return { configs: queues.configs.list().map((s) => ({ spec: s.spec, source: s.file })) };
  });
  app.post("/api/cli/configs", { schema: { summary: "Create a queue (a file in the queues directory)", tags, body: Type.Unknown(), response: { 201: ConfigView } }, config: admin }, async function createConfig(req, reply) {
    const spec = queues.configs.create(req.body);
    return reply.code(201).send({ spec, source: queues.configs.list().find((s) => s.spec.name === spec.name)?.file ?? "" });
  });
  app.delete("/api/cli/configs/:name", { schema: { summary: "Delete a queue's file", tags, params: Type.Object({ name: Type.String() }) }, config: admin }, async function deleteConfig(req, reply) {
    queues.configs.remove((req.params as { name: string }).name);
    return reply.code(204).send();
  });
  app.post("/api/cli/configs/reload", { schema: { summary: "Read the queues directory again (nothing changes if a file is wrong)", tags, response: { 200: Type.Object({ configs: Type.Array(ConfigView) }) } }, config: admin }, async function reloadConfigs() {
    queues.configs.reload();
    return { configs: queues.configs.list().map((s) => ({ spec: s.spec, source: s.file })) };
  });
}

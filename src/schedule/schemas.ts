import { Type, type Static } from "@sinclair/typebox";
import { MAX_TASK_TIMEOUT_SECS } from "../queue/index.js";

/** The longest a run may be expected to take. */
export const MAX_DURATION_MS = 7 * 86_400_000;
/** The farthest ahead the timeline and suggestions look: 31 days. */
export const MAX_HOURS = 24 * 31;
export const MAX_TASKS_PER_RUN = 100;

const Name = Type.String({ minLength: 1, maxLength: 128 });
const Cron = Type.String({ minLength: 1, maxLength: 128, description: "5 fields (minute hour day month weekday), or 6 with seconds first; croner's syntax" });
const Timezone = Type.String({ minLength: 1, maxLength: 64, description: "an IANA timezone the cron is read in" });
const Model = Type.String({ minLength: 1, maxLength: 256 });
const Node = Type.String({ minLength: 1, maxLength: 128 });
const DurationMs = Type.Integer({ minimum: 1, maximum: MAX_DURATION_MS, description: "how long a run is expected to take" });

export const QueueAction = Type.Object(
  {
    type: Type.Literal("queue"),
    /** a queue of the gateway's job queue */
    queue: Type.String({ minLength: 1, maxLength: 64 }),
    /** the tasks each run queues; a task's data without a `model` gets the job's */
    tasks: Type.Array(
      Type.Object({ data: Type.Unknown(), timeout: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_TASK_TIMEOUT_SECS })) }, { additionalProperties: false }),
      { minItems: 1, maxItems: MAX_TASKS_PER_RUN },
    ),
  },
  { additionalProperties: false },
);
export const WebhookAction = Type.Object(
  {
    type: Type.Literal("webhook"),
    /** POSTed to at each run; it must be a URL the gateway may reach (outbound.allow lets an operator allow internal ones) */
    url: Type.String({ pattern: "^https?://", maxLength: 2048 }),
    /** sent along in the call's `payload` */
    payload: Type.Optional(Type.Unknown()),
  },
  { additionalProperties: false },
);
export const Action = Type.Union([QueueAction, WebhookAction]);
export type Action = Static<typeof Action>;

export const JobBody = Type.Object(
  {
    name: Name,
    cron: Cron,
    timezone: Type.Optional(Timezone),
    model: Model,
    node: Type.Optional(Type.Union([Node, Type.Null()])),
    durationMs: Type.Optional(DurationMs),
    action: Action,
    enabled: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export type JobBody = Static<typeof JobBody>;

export const JobPatch = Type.Partial(JobBody, { additionalProperties: false, minProperties: 1 });
export type JobPatch = Static<typeof JobPatch>;

const Time = Type.String({ description: "ISO 8601" });
const OrNull = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);

export const LastRun = Type.Object({
  at: Time,
  status: Type.Union([Type.Literal("succeeded"), Type.Literal("failed")]),
  error: OrNull(Type.String()),
  /** the tasks it queued, or the webhook's status */
  result: Type.Unknown(),
});

export const JobView = Type.Object({
  id: Type.String(),
  name: Type.String(),
  cron: Type.String(),
  timezone: Type.String(),
  model: Type.String(),
  node: OrNull(Type.String()),
  durationMs: Type.Integer(),
  action: Type.Unknown(),
  enabled: Type.Boolean(),
  /** `api`, or `docker` for a job imported from a container's labels */
  source: Type.String(),
  origin: OrNull(Type.String()),
  nextRun: OrNull(Time),
  lastRun: OrNull(LastRun),
  createdAt: Time,
  updatedAt: Time,
});
export type JobView = Static<typeof JobView>;

export const TimelineQuery = Type.Object({ hours: Type.Number({ exclusiveMinimum: 0, maximum: MAX_HOURS, default: 24 }) });

const ConflictView = Type.Object({
  jobId: Type.String(),
  name: Type.String(),
  start: Time,
  /** `same_model`: both run the model at once; `node_full`: the node has more runs than it takes at once */
  reason: Type.String(),
});
export const RunView = Type.Object({
  jobId: Type.String(),
  name: Type.String(),
  start: Time,
  end: Time,
  model: Type.String(),
  node: OrNull(Type.String()),
  conflicts: Type.Array(ConflictView),
  /** all the runs it collides with; `conflicts` lists the first of them */
  conflictCount: Type.Integer(),
});
export const TimelineView = Type.Object({
  from: Time,
  to: Time,
  hours: Type.Number(),
  runs: Type.Array(RunView),
  /** runs listed per job at most; jobs that fire more often show only their first ones */
  maxRunsPerJob: Type.Integer(),
  /** the jobs whose runs were cut at maxRunsPerJob */
  capped: Type.Array(Type.String()),
  conflictCount: Type.Integer(),
});

export const SuggestionsQuery = Type.Object({
  model: Model,
  durationMs: DurationMs,
  node: Type.Optional(Node),
  hours: Type.Number({ exclusiveMinimum: 0, maximum: MAX_HOURS, default: 24 }),
  timezone: Type.Optional(Timezone),
  limit: Type.Integer({ minimum: 1, maximum: 20, default: 5 }),
});
export const SuggestionsView = Type.Object({
  model: Type.String(),
  durationMs: Type.Integer(),
  timezone: Type.String(),
  from: Time,
  to: Time,
  suggestions: Type.Array(Type.Object({ start: Time, end: Time, cron: Type.String(), timezone: Type.String() })),
  /** jobs that fire so often that only their first runs were weighed: a slot may still meet their later ones */
  capped: Type.Array(Type.String()),
});

export const DiscoveredView = Type.Object({
  container: Type.String(),
  containerId: Type.String(),
  /** the job its labels declare; null when they make none (see problem) */
  job: OrNull(Type.Unknown()),
  problem: OrNull(Type.String()),
  /** the id of the job it was imported as */
  importedAs: OrNull(Type.String()),
});
export const DiscoverView = Type.Object({
  dockerHost: Type.String(),
  jobs: Type.Array(DiscoveredView),
  /** why the list is empty without looking: Docker unreachable, or discovery off */
  reason: OrNull(Type.String()),
});
export const ImportBody = Type.Object(
  { containers: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 256 }), { maxItems: 1000, description: "only these containers (by name); all when absent" })) },
  { additionalProperties: false },
);
export const ImportView = Type.Object({
  imported: Type.Array(JobView),
  skipped: Type.Array(Type.Object({ container: Type.String(), reason: Type.String() })),
  reason: OrNull(Type.String()),
});

import { randomUUID } from "node:crypto";
import { FlotillaError, isoTime, isoTimeOrNull, type OutboundGuard } from "../kernel/index.js";
import type { Queues } from "../queue/index.js";
import type { ScheduledJobRepo, ScheduledJobRow } from "../store/index.js";
import { checkCron, checkTimezone, nextRunAt, schedule } from "./cron.js";
import type { Action, JobBody, JobPatch, JobView } from "./schemas.js";
import type { NodeConcurrency, PlannedJob } from "./timeline.js";

/** The most jobs kept: the timeline computes every one's runs. */
export const MAX_JOBS = 1000;
export const DEFAULT_DURATION_MS = 60_000;

export interface JobsDeps {
  repo: ScheduledJobRepo;
  queues: Pick<Queues, "configs">;
  outbound: Pick<OutboundGuard, "urlProblem">;
  /** How many runs a node takes at once: its max_concurrency; 1 when the fleet does not say. */
  concurrencyOf: NodeConcurrency;
  now?: () => number;
}

/** Scheduled jobs as the API sees them: checked when made or changed, shown with their next and last run. */
export class ScheduledJobs {
  readonly now: () => number;

  constructor(private readonly deps: JobsDeps) {
    this.now = deps.now ?? Date.now;
  }

  get concurrencyOf(): NodeConcurrency {
    return this.deps.concurrencyOf;
  }

  async list(): Promise<ScheduledJobRow[]> {
    return this.deps.repo.list();
  }

  /** The jobs imported from these origins (`docker:<container>`). */
  async withOrigins(origins: string[]): Promise<ScheduledJobRow[]> {
    return this.deps.repo.withOrigins(origins);
  }

  async get(id: string): Promise<ScheduledJobRow> {
    const row = await this.deps.repo.get(id);
    if (!row) throw new FlotillaError("not_found", `no scheduled job "${id}"`);
    return row;
  }

  async create(body: JobBody, origin: string | null = null): Promise<ScheduledJobRow> {
    const checked = await this.check(body);
    if ((await this.deps.repo.count()) >= MAX_JOBS) throw new FlotillaError("conflict", `there are ${MAX_JOBS} scheduled jobs already: delete one first`);
    const now = this.now();
    const row: ScheduledJobRow = {
      id: `job_${randomUUID().replace(/-/g, "")}`,
      ...checked,
      origin,
      last_run_at: null,
      last_run_status: null,
      last_run_error: null,
      last_run_result: null,
      created_at: now,
      updated_at: now,
    };
    await this.deps.repo.insert(row);
    return row;
  }

  /** Changes the fields given; the job as a whole is checked again. */
  async update(id: string, patch: JobPatch): Promise<ScheduledJobRow> {
    const row = await this.get(id);
    const merged: JobBody = {
      name: patch.name ?? row.name,
      cron: patch.cron ?? row.cron,
      timezone: patch.timezone ?? row.timezone,
      model: patch.model ?? row.model,
      node: patch.node === undefined ? row.node : patch.node,
      durationMs: patch.durationMs ?? row.duration_ms,
      action: patch.action ?? (JSON.parse(row.action) as Action),
      enabled: patch.enabled ?? row.enabled === 1,
    };
    if (!(await this.deps.repo.change(id, await this.check(merged), this.now()))) throw new FlotillaError("not_found", `no scheduled job "${id}"`);
    return this.get(id);
  }

  async remove(id: string): Promise<void> {
    if (!(await this.deps.repo.remove(id))) throw new FlotillaError("not_found", `no scheduled job "${id}"`);
  }

  /** A job's fields as stored, after every check: a bad one is a 400 naming it. */
  private async check(body: JobBody): Promise<Pick<ScheduledJobRow, "name" | "cron" | "timezone" | "model" | "node" | "duration_ms" | "action" | "enabled">> {
    const timezone = checkTimezone(body.timezone ?? "UTC");
    checkCron(body.cron, timezone);
    await this.checkAction(body.action);
    return {
      name: body.name,
      cron: body.cron,
      timezone,
      model: body.model,
      node: body.node ?? null,
      duration_ms: body.durationMs ?? DEFAULT_DURATION_MS,
      action: JSON.stringify(body.action),
      enabled: body.enabled === false ? 0 : 1,
    };
  }

  private async checkAction(action: Action): Promise<void> {
    if (action.type === "webhook") {
      const problem = await this.deps.outbound.urlProblem(action.url);
      if (problem) throw new FlotillaError("invalid_request", `action.url is refused: ${problem}`, { param: "action.url" });
      return;
    }
    const { queues } = this.deps;
    if (!queues.configs.get(action.queue)) throw new FlotillaError("invalid_request", `action.queue "${action.queue}" is not a queue`, { param: "action.queue" });
    if (queues.configs.isOwn(action.queue)) throw new FlotillaError("invalid_request", `action.queue "${action.queue}" is the gateway's own: it takes no tasks from scheduled jobs`, { param: "action.queue" });
  }
}

export function plannedJob(row: ScheduledJobRow): PlannedJob {
  return { id: row.id, name: row.name, cron: row.cron, timezone: row.timezone, model: row.model, node: row.node, durationMs: row.duration_ms };
}

const parsed = (json: string | null): unknown => (json === null ? null : JSON.parse(json));

export function jobView(row: ScheduledJobRow, now: number): JobView {
  let next: number | null = null;
  // A row whose cron no longer reads (edited in the database) shows no next run rather than failing the whole list.
  try {
    next = row.enabled === 1 ? nextRunAt(schedule(row.cron, row.timezone), now) : null;
  } catch {
    next = null;
  }
  return {
    id: row.id,
    name: row.name,
    cron: row.cron,
    timezone: row.timezone,
    model: row.model,
    node: row.node,
    durationMs: row.duration_ms,
    action: parsed(row.action),
    enabled: row.enabled === 1,
    source: row.origin?.startsWith("docker:") ? "docker" : "api",
    origin: row.origin,
    nextRun: isoTimeOrNull(next),
    lastRun:
      row.last_run_at === null
        ? null
        : { at: isoTime(row.last_run_at), status: row.last_run_status === "succeeded" ? "succeeded" : "failed", error: row.last_run_error, result: parsed(row.last_run_result) },
    createdAt: isoTime(row.created_at),
    updatedAt: isoTime(row.updated_at),
  };
}

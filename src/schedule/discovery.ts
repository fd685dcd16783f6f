import type { Static } from "@sinclair/typebox";
import { Value } from "@sinclair/typebox/value";
import { isFlotillaError } from "../kernel/index.js";
import type { ScheduledJobRow } from "../store/index.js";
import { checkCron, checkTimezone } from "./cron.js";
import { containerName, listContainers, type DockerContainer } from "./docker.js";
import type { ScheduledJobs } from "./jobs.js";
import { JobBody, type Action } from "./schemas.js";

/** The labels a container declares a scheduled job with; `cron` and `model` are required, and a `queue` or a `webhook`. */
export const LABELS = {
  cron: "flotilla.schedule.cron",
  model: "flotilla.schedule.model",
  name: "flotilla.schedule.name",
  timezone: "flotilla.schedule.timezone",
  durationMs: "flotilla.schedule.duration_ms",
  node: "flotilla.schedule.node",
  queue: "flotilla.schedule.queue",
  data: "flotilla.schedule.data",
  webhook: "flotilla.schedule.webhook",
  enabled: "flotilla.schedule.enabled",
} as const;

export interface Discovered {
  container: string;
  containerId: string;
  /** the job its labels declare, when they declare one */
  job: JobBody | null;
  /** why the labels make no job */
  problem: string | null;
}

/** The job a container's labels declare, or the problem with them. */
export function fromLabels(container: DockerContainer): Discovered {
  const labels = container.Labels ?? {};
  const name = containerName(container);
  const found = (job: JobBody | null, problem: string | null): Discovered => ({ container: name, containerId: container.Id, job, problem });
  try {
    const job = jobOf(labels, name);
    const errors = [...Value.Errors(JobBody, job)];
    if (errors.length > 0) return found(null, `labels make no valid job: ${errors[0].path.replace(/^\//, "") || "job"} ${errors[0].message}`);
    const timezone = checkTimezone(job.timezone ?? "UTC", LABELS.timezone);
    checkCron(job.cron, timezone, LABELS.cron);
    return found(job, null);
  } catch (err) {
    return found(null, (err as Error).message);
  }
}

function jobOf(labels: Record<string, string>, container: string): JobBody {
  const label = (key: keyof typeof LABELS) => labels[LABELS[key]]?.trim() || undefined;
  const queue = label("queue");
  const webhook = label("webhook");
  if ((queue === undefined) === (webhook === undefined)) throw new Error(`a job needs one of ${LABELS.queue} and ${LABELS.webhook}`);
  let action: Action;
  if (queue !== undefined) {
    const data = label("data");
    let parsed: unknown = {};
    if (data !== undefined) {
      try {
        parsed = JSON.parse(data);
      } catch {
        throw new Error(`${LABELS.data} is not JSON`);
      }
    }
    action = { type: "queue", queue, tasks: [{ data: parsed }] };
  } else action = { type: "webhook", url: webhook as string };
  const duration = label("durationMs");
  if (duration !== undefined && !/^\d+$/.test(duration)) throw new Error(`${LABELS.durationMs} is not a number of milliseconds`);
  const enabled = label("enabled");
  return {
    name: label("name") ?? container,
    cron: label("cron") ?? "",
    timezone: label("timezone"),
    model: label("model") ?? "",
    node: label("node") ?? null,
    ...(duration !== undefined ? { durationMs: Number(duration) } : {}),
    action,
    enabled: enabled === undefined ? true : !/^(false|0|no|off)$/i.test(enabled),
  };
}

const originOf = (container: string) => `docker:${container}`;

/** Jobs declared by Docker containers' labels: listed, and imported once each (a job's origin names its container). */
export class Discovery {
  constructor(
    /** `schedule.docker_host`; empty: discovery is off. */
    private readonly dockerHost: string,
    private readonly jobs: ScheduledJobs,
  ) {}

  /** What the containers declare, with the job each was imported as; `reason` says why the list is empty when Docker cannot be asked. */
  async discover(): Promise<{ found: Array<Discovered & { imported: ScheduledJobRow | null }>; reason: string | null }> {
    if (!this.dockerHost) return { found: [], reason: "schedule.docker_host is empty: discovery is off" };
    let containers: DockerContainer[];
    try {
      containers = await listContainers(this.dockerHost, LABELS.cron);
    } catch (err) {
      return { found: [], reason: `Docker is not reachable at ${this.dockerHost}: ${(err as Error).message}` };
    }
    const discovered = containers.filter((c) => c.Labels?.[LABELS.cron] !== undefined).map(fromLabels);
    const imported = new Map((await this.jobs.withOrigins(discovered.map((d) => originOf(d.container)))).map((row) => [row.origin, row]));
    return { found: discovered.map((d) => ({ ...d, imported: imported.get(originOf(d.container)) ?? null })), reason: null };
  }

  /** Makes a job of each container's labels (of `containers`, when given) not imported yet; the rest are skipped, each with why. */
  async import(containers?: readonly string[]): Promise<{ imported: ScheduledJobRow[]; skipped: Array<{ container: string; reason: string }>; reason: string | null }> {
    const { found, reason } = await this.discover();
    const wanted = containers && new Set(containers);
    const imported: ScheduledJobRow[] = [];
    const skipped: Array<{ container: string; reason: string }> = [];
    for (const d of found) {
      if (wanted && !wanted.has(d.container)) continue;
      if (d.imported) skipped.push({ container: d.container, reason: `imported already, as ${d.imported.id}` });
      else if (!d.job) skipped.push({ container: d.container, reason: d.problem ?? "no job" });
      else {
        try {
          imported.push(await this.jobs.create(d.job, originOf(d.container)));
        } catch (err) {
          if (!isFlotillaError(err) || err.status >= 500) throw err;
          skipped.push({ container: d.container, reason: err.message });
        }
      }
    }
    for (const name of wanted ?? []) if (!found.some((d) => d.container === name)) skipped.push({ container: name, reason: "no container of that name declares a job" });
    return { imported, skipped, reason };
  }
}

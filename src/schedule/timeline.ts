import { runsBetween, schedule } from "./cron.js";

/** What the timeline needs of a job. */
export interface PlannedJob {
  id: string;
  name: string;
  cron: string;
  timezone: string;
  model: string;
  node: string | null;
  durationMs: number;
}

/** One upcoming run: [start, end) with end = start + the job's durationMs. */
export interface PlannedRun {
  jobId: string;
  name: string;
  start: number;
  end: number;
  model: string;
  node: string | null;
}

export type ConflictReason = "same_model" | "node_full";

export interface Conflict {
  jobId: string;
  name: string;
  start: number;
  reason: ConflictReason;
}

/** How many runs a node takes at once (its max_concurrency). */
export type NodeConcurrency = (node: string) => number;

/**
 * The runs of `jobs` that occupy [from, to): those starting in it, and those
 * started before `from` that are still expected to run then. Each job gives at
 * most `maxPerJob` runs; the ids of jobs that had more are in `capped`.
 */
export function plannedRuns(jobs: readonly PlannedJob[], from: number, to: number, maxPerJob: number): { runs: PlannedRun[]; capped: string[] } {
  const runs: PlannedRun[] = [];
  const capped: string[] = [];
  for (const job of jobs) {
    const { starts, capped: more } = runsBetween(schedule(job.cron, job.timezone), from - job.durationMs + 1, to, maxPerJob);
    if (more) capped.push(job.id);
    for (const start of starts) runs.push({ jobId: job.id, name: job.name, start, end: start + job.durationMs, model: job.model, node: job.node });
  }
  return { runs: runs.sort(byStart), capped };
}

export function byStart(a: PlannedRun, b: PlannedRun): number {
  return a.start - b.start || (a.jobId < b.jobId ? -1 : a.jobId > b.jobId ? 1 : 0);
}

/**
 * The runs each run collides with, by index into `runs` (sorted by start):
 * an overlapping run of the same model, or, where a run's start puts more runs
 * on its node than the node takes at once, the runs already there.
 */
export function conflicts(runs: readonly PlannedRun[], concurrencyOf: NodeConcurrency): Array<Map<number, ConflictReason>> {
  const found = runs.map(() => new Map<number, ConflictReason>());
  const link = (a: number, b: number, reason: ConflictReason) => {
    if (!found[a].has(b)) found[a].set(b, reason);
    if (!found[b].has(a)) found[b].set(a, reason);
  };
  let active: number[] = [];
  // Sweeping by start: the runs still going when one starts are exactly those it overlaps among the earlier ones.
  runs.forEach((run, i) => {
    active = active.filter((a) => runs[a].end > run.start);
    const onNode: number[] = [];
    for (const a of active) {
      if (runs[a].model === run.model) link(i, a, "same_model");
      if (run.node !== null && runs[a].node === run.node) onNode.push(a);
    }
    if (run.node !== null && onNode.length + 1 > concurrencyOf(run.node)) for (const a of onNode) link(i, a, "node_full");
    active.push(i);
  });
  return found;
}

/**
 * Whether a run of `model` on `node` over [start, end) would collide with any of `runs`: an overlapping
 * run of the model, or as many runs overlapping it on the node as the node takes (counted over the whole
 * span, so a slot it calls open is open throughout).
 */
export function collides(runs: readonly PlannedRun[], candidate: Omit<PlannedRun, "jobId" | "name">, concurrencyOf: NodeConcurrency): boolean {
  let onNode = 0;
  for (const run of runs) {
    if (run.start >= candidate.end || run.end <= candidate.start) continue;
    if (run.model === candidate.model) return true;
    if (candidate.node !== null && run.node === candidate.node) onNode++;
  }
  return candidate.node !== null && onNode + 1 > concurrencyOf(candidate.node);
}

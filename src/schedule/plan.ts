import type { Static } from "@sinclair/typebox";
import { isoTime } from "../kernel/index.js";
import { plannedJob, type ScheduledJobs } from "./jobs.js";
import type { SuggestionsQuery, SuggestionsView, TimelineView } from "./schemas.js";
import { checkTimezone } from "./cron.js";
import { openSlots } from "./suggestions.js";
import { conflicts, plannedRuns } from "./timeline.js";

const HOUR_MS = 3_600_000;
/** Runs listed per job at most: a `* * * * *` job over 31 days would be 44,640. */
export const MAX_RUNS_PER_JOB = 1000;
/** Runs in one timeline at most, shared between the jobs. */
const MAX_RUNS = 10_000;
/** Conflicts named per run at most; conflictCount has them all. */
const MAX_CONFLICTS_LISTED = 20;

/** How many runs each of `jobCount` jobs may give, at most `max`. */
const perJob = (jobCount: number, max: number) => Math.max(1, Math.min(max, Math.floor(MAX_RUNS / Math.max(1, jobCount))));

/** The enabled jobs' runs over the next `hours`, each with the runs it collides with. */
export async function timeline(jobs: ScheduledJobs, hours: number): Promise<Static<typeof TimelineView>> {
  const from = jobs.now();
  const to = from + hours * HOUR_MS;
  const enabled = (await jobs.list()).filter((row) => row.enabled === 1).map(plannedJob);
  const maxRunsPerJob = perJob(enabled.length, MAX_RUNS_PER_JOB);
  const { runs, capped } = plannedRuns(enabled, from, to, maxRunsPerJob);
  const found = conflicts(runs, jobs.concurrencyOf);
  let conflictCount = 0;
  const views = runs.map((run, i) => {
    if (found[i].size > 0) conflictCount++;
    const named = [...found[i]].slice(0, MAX_CONFLICTS_LISTED).map(([other, reason]) => ({ jobId: runs[other].jobId, name: runs[other].name, start: isoTime(runs[other].start), reason }));
    return { jobId: run.jobId, name: run.name, start: isoTime(run.start), end: isoTime(run.end), model: run.model, node: run.node, conflicts: named, conflictCount: found[i].size };
  });
  return { from: isoTime(from), to: isoTime(to), hours, runs: views, maxRunsPerJob, capped, conflictCount };
}

/** Daily times where a job of the model and duration would collide with no enabled job's run in the next `hours`. */
export async function suggestions(jobs: ScheduledJobs, query: Static<typeof SuggestionsQuery>): Promise<Static<typeof SuggestionsView>> {
  const timezone = checkTimezone(query.timezone ?? "UTC");
  const from = jobs.now();
  const to = from + query.hours * HOUR_MS;
  // Only jobs of the model or on the node can collide: they get the whole budget of runs.
  const relevant = (await jobs.list()).filter((row) => row.enabled === 1 && (row.model === query.model || (query.node !== undefined && row.node === query.node))).map(plannedJob);
  const { runs, capped } = plannedRuns(relevant, from, to, perJob(relevant.length, MAX_RUNS));
  const slots = openSlots(runs, { model: query.model, node: query.node ?? null, durationMs: query.durationMs, timezone, from, to, limit: query.limit }, jobs.concurrencyOf);
  return {
    model: query.model,
    durationMs: query.durationMs,
    timezone,
    from: isoTime(from),
    to: isoTime(to),
    suggestions: slots.map((slot) => ({ start: isoTime(slot.start), end: isoTime(slot.end), cron: slot.cron, timezone })),
    capped,
  };
}

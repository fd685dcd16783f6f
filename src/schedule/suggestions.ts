import { runsBetween, schedule, wallClock } from "./cron.js";
import { byStart, collides, type NodeConcurrency, type PlannedRun } from "./timeline.js";

export interface SlotRequest {
  model: string;
  node: string | null;
  durationMs: number;
  timezone: string;
  from: number;
  to: number;
  limit: number;
}

export interface Slot {
  start: number;
  end: number;
  /** A daily cron that fires at `start` (in the request's timezone), every firing of it up to `to` open too. */
  cron: string;
}

/** Candidates are the wall-clock times of day a quarter-hour apart. */
const STEP_MS = 15 * 60_000;
const DAY_MS = 86_400_000;

/**
 * Open slots for a daily job of `model` (on `node`, if given) lasting `durationMs`:
 * times of day whose every firing in [from, to) collides with none of `runs`.
 * Earliest first, each starting after the one before has ended, at most `limit`.
 */
export function openSlots(runs: readonly PlannedRun[], request: SlotRequest, concurrencyOf: NodeConcurrency): Slot[] {
  const relevant = runs.filter((r) => r.model === request.model || (request.node !== null && r.node === request.node)).sort(byStart);
  const near = nearby(relevant);
  const free: Slot[] = [];
  const first = Math.ceil(request.from / STEP_MS) * STEP_MS;
  const lastCandidate = Math.min(request.to, first + DAY_MS);
  for (let at = first; at < lastCandidate; at += STEP_MS) {
    const { hour, minute } = wallClock(at, request.timezone);
    const cron = `${minute} ${hour} * * *`;
    // Every firing of the daily cron in the window, so that tomorrow's is as open as today's.
    const { starts } = runsBetween(schedule(cron, request.timezone), request.from, request.to, Math.ceil((request.to - request.from) / DAY_MS) + 1);
    const open = starts.every((start) => !collides(near(start, start + request.durationMs), { start, end: start + request.durationMs, model: request.model, node: request.node }, concurrencyOf));
    if (open && starts.length > 0) free.push({ start: starts[0], end: starts[0] + request.durationMs, cron });
  }
  const chosen: Slot[] = [];
  for (const slot of free.sort((a, b) => a.start - b.start)) {
    if (chosen.length === request.limit) break;
    const previous = chosen.at(-1);
    if (!previous || slot.start >= previous.end) chosen.push(slot);
  }
  return chosen;
}

/** The runs of `sorted` (by start) that may overlap [start, end): found by bisection, as there may be thousands. */
function nearby(sorted: readonly PlannedRun[]): (start: number, end: number) => readonly PlannedRun[] {
  const longest = sorted.reduce((max, r) => Math.max(max, r.end - r.start), 0);
  return (start, end) => {
    let low = 0;
    let high = sorted.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (sorted[mid].start <= start - longest) low = mid + 1;
      else high = mid;
    }
    let last = low;
    while (last < sorted.length && sorted[last].start < end) last++;
    return sorted.slice(low, last);
  };
}

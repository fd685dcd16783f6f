import type { ScheduledJobRepo, ScheduledJobRow } from "../store/index.js";
import type { ActionRunner } from "./actions.js";
import { nextRunAt, schedule } from "./cron.js";

export interface SchedulerOptions {
  repo: ScheduledJobRepo;
  run: ActionRunner;
  /** This replica, as the holder of the run leases it takes. */
  owner: string;
  /** The longest it waits before looking again for jobs made or changed elsewhere. */
  tickMs: number;
  now?: () => number;
  log: { warn(message: string): void };
}

/** A run later than this (the gateway stopped, the database was away) is skipped. */
const MAX_LATE_MS = 3_600_000;
/** Leases outlive the latest a run can fire by far, so a late replica never fires it again. */
const KEEP_LEASES_MS = 2 * 86_400_000;
const PRUNE_EVERY_MS = 3_600_000;
const MAX_ERROR_LENGTH = 1000;

/**
 * Fires each enabled job's runs as their times come: a run's lease is inserted
 * with a unique key (job, run time), so of all the replicas on one database the
 * one whose insert wins performs the action, once. A run missed while no
 * scheduler ran is not made up; when several fell due since the last look, the
 * latest fires.
 */
export class Scheduler {
  private readonly now: () => number;
  /** Per job, the time up to which its runs have been looked at. */
  private readonly cursors = new Map<string, number>();
  private readonly firing = new Set<Promise<void>>();
  private startedAt: number;
  private lastPrune = 0;
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | undefined;
  private closed = false;

  constructor(private readonly options: SchedulerOptions) {
    this.now = options.now ?? Date.now;
    this.startedAt = this.now();
  }

  start(): void {
    this.startedAt = this.now();
    this.wake(0);
  }

  /**
   * Looks once: fires each job's latest run that fell due since the last look (or since
   * the job was made or changed). The time of the next run of any job, or null when none.
   */
  async tick(): Promise<number | null> {
    const now = this.now();
    const jobs = await this.options.repo.listEnabled();
    let next: number | null = null;
    const seen = new Set<string>();
    for (const job of jobs) {
      seen.add(job.id);
      const since = Math.max(this.cursors.get(job.id) ?? this.startedAt, job.updated_at, now - MAX_LATE_MS);
      this.cursors.set(job.id, now);
      const times = this.times(job, since, now);
      if (!times) continue;
      if (times.due !== null) this.fire(job, times.due);
      if (times.next !== null && (next === null || times.next < next)) next = times.next;
    }
    for (const id of this.cursors.keys()) if (!seen.has(id)) this.cursors.delete(id);
    if (now - this.lastPrune >= PRUNE_EVERY_MS) {
      this.lastPrune = now;
      await this.options.repo.pruneRuns(now - KEEP_LEASES_MS);
    }
    return next;
  }

  /** The actions started so far, finished. */
  async idle(): Promise<void> {
    while (this.firing.size > 0) await Promise.all([...this.firing]);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    await this.ticking;
    await this.idle();
  }

  /** The latest run in (since, now] and the first after now; undefined when the cron no longer reads (edited in the database). */
  private times(job: ScheduledJobRow, since: number, now: number): { due: number | null; next: number | null } | undefined {
    let cron;
    try {
      cron = schedule(job.cron, job.timezone);
    } catch {
      return undefined;
    }
    let due: number | null = null;
    for (let at = nextRunAt(cron, since + 1); at !== null && at <= now; at = nextRunAt(cron, at + 1)) due = at;
    return { due, next: nextRunAt(cron, now + 1) };
  }

  private fire(job: ScheduledJobRow, runAt: number): void {
    const { repo, run, owner, log } = this.options;
    const fired = (async () => {
      if (!(await repo.claimRun(job.id, runAt, owner, this.now()))) return;
      let outcome: { last_run_status: string; last_run_error: string | null; last_run_result: string | null };
      try {
        outcome = { last_run_status: "succeeded", last_run_error: null, last_run_result: JSON.stringify((await run(job, runAt)) ?? null) };
      } catch (err) {
        outcome = { last_run_status: "failed", last_run_error: String((err as Error).message ?? err).slice(0, MAX_ERROR_LENGTH), last_run_result: null };
        log.warn(`scheduled job ${job.id} (${job.name}) failed: ${outcome.last_run_error}`);
      }
      await repo.recordRun(job.id, { last_run_at: runAt, ...outcome });
    })()
      .catch((err: Error) => log.warn(`scheduled job ${job.id} could not fire: ${err.message}`))
      .finally(() => this.firing.delete(fired));
    this.firing.add(fired);
  }

  /** Looks again at the next run's time, or after tickMs at the latest (jobs change on other replicas too). */
  private wake(delay: number): void {
    if (this.closed) return;
    this.timer = setTimeout(() => {
      this.ticking = this.tick().then(
        (next) => this.wake(next === null ? this.options.tickMs : Math.max(0, Math.min(this.options.tickMs, next - this.now()))),
        (err: Error) => {
          this.options.log.warn(`the scheduler could not read its jobs: ${err.message}`);
          this.wake(this.options.tickMs);
        },
      );
    }, delay);
    this.timer.unref();
  }
}

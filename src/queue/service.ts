import { randomUUID } from "node:crypto";
import { EventEmitter } from "node:events";
import type { TaskRepo, TaskRow } from "../store/index.js";
import { batchTurn, FlotillaError } from "../kernel/index.js";
import type { QueueConfigs } from "./configs.js";
import { MAX_RETRY_DELAY_MS, type QueueSpec } from "./spec.js";

/** What running one task gives: its result, or an error that says whether a retry could help. */
export type TaskRunner = (task: TaskRow, spec: QueueSpec, signal: AbortSignal) => Promise<unknown>;

export class PermanentTaskError extends Error {}

export interface QueuesOptions {
  /** This replica, as the owner of the leases it takes. */
  replicaId: string;
  /** Tasks the gateway runs at once across its queues. */
  maxRunning: number;
  /** How often to look for work another replica queued, and for expired leases. */
  pollMs: number;
  /** A lease outlives the task's timeout by this much before another consumer may take the task. */
  leaseGraceMs: number;
  log: { warn(message: string): void };
}

export interface NewTask {
  queue: string;
  data: unknown;
  timeoutSecs?: number;
  userId?: string;
  keyId?: string;
  webhookUrl?: string;
  /** not before this time (seed 001's scheduled state) */
  runAt?: number;
}

const HEARTBEAT_MAX_MS = 5_000;
const INSERT_BATCH_MAX = 500;

/** The rest of this turn of the event loop: enqueues that arrive meanwhile are written together. */
const endOfTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Queues and their tasks over a task backend (the database or Redis): enqueue, lookup,
 * cancel and delete for everyone; for `consumer: gateway` queues, this replica
 * also runs the tasks, highest queue priority first, within each queue's
 * concurrency and `maxRunning` in all.
 */
export class Queues extends EventEmitter<{ ended: [TaskRow] }> {
  private runner: TaskRunner | undefined;
  /** The runners of the gateway's own queues, by queue. */
  private readonly ownRunners = new Map<string, TaskRunner>();
  private readonly running = new Map<string, { queue: string; abort: AbortController; settled?: Promise<void> }>();
  private paused = new Set<string>();
  /** Counts pauses and unpauses made here, so that an upkeep read begun before one does not undo it. */
  private pauseChanges = 0;
  private timer: NodeJS.Timeout | undefined;
  private pumping = false;
  private again = false;
  private closed = false;
  private batch: { rows: TaskRow[]; written: Promise<void> } | undefined;

  constructor(
    /** The task backend: the database, or Redis. */
    readonly tasks: TaskRepo,
    readonly configs: QueueConfigs,
    private readonly options: QueuesOptions,
  ) {
    super();
  }

  /** Reads the queue files (a problem stops the start, naming file and line) and begins consuming. */
  async start(runner: TaskRunner): Promise<void> {
    this.configs.reload();
    this.runner = runner;
    this.paused = await this.tasks.pausedQueues();
    this.timer = setInterval(() => void this.tick(), this.options.pollMs);
    this.timer.unref();
    this.pump();
  }

  /** A queue of the gateway's own (background responses), run here by `runner`: the queue API gives it no tasks. Added before `start`. */
  addOwnQueue(spec: QueueSpec, runner: TaskRunner): void {
    this.configs.addOwn(spec);
    this.ownRunners.set(spec.name, runner);
  }

  spec(name: string): QueueSpec {
    const spec = this.configs.get(name);
    if (!spec) throw new FlotillaError("not_found", `no queue named "${name}"`, { param: "queue" });
    return spec;
  }

  async enqueue(task: NewTask): Promise<TaskRow> {
    const spec = this.spec(task.queue);
    const now = Date.now();
    const runAt = task.runAt ?? now;
    const row: TaskRow = {
      id: `task_${randomUUID().replace(/-/g, "")}`,
      queue: spec.name,
      state: runAt > now ? "scheduled" : "pending",
      data: JSON.stringify(task.data ?? null),
      result: null,
      error: null,
      attempts: 0,
      max_attempts: spec.retries + 1,
      dead_letter: spec.dead_letter ? 1 : 0,
      timeout_ms: (task.timeoutSecs ?? spec.timeout_secs) * 1000,
      run_at: runAt,
      lease_owner: null,
      lease_until: null,
      cancel_requested: 0,
      user_id: task.userId ?? null,
      key_id: task.keyId ?? null,
      webhook_url: task.webhookUrl ?? spec.webhook_url ?? null,
      created_at: now,
      updated_at: now,
      started_at: null,
      finished_at: null,
    };
    await this.insert(row);
    if (spec.consumer === "gateway") this.pump();
    return row;
  }

  /** Rows that arrive in the same turn are written at once (one multi-row INSERT, one Redis transaction); each caller hears once its row is stored. */
  private insert(row: TaskRow): Promise<void> {
    // A batch stays well under either backend's limit on bound parameters.
    if (!this.batch || this.batch.rows.length >= INSERT_BATCH_MAX) {
      const batch = { rows: [] as TaskRow[], written: undefined as unknown as Promise<void> };
      batch.written = endOfTurn().then(() => {
        if (this.batch === batch) this.batch = undefined;
        return this.tasks.insert(batch.rows);
      });
      this.batch = batch;
    }
    this.batch.rows.push(row);
    return this.batch.written;
  }

  async cancel(id: string): Promise<TaskRow | undefined> {
    const row = await this.tasks.cancel(id, Date.now());
    this.running.get(id)?.abort.abort("cancel");
    if (row?.state === "cancelled") this.emit("ended", row);
    return row;
  }

  async setPaused(name: string, paused: boolean): Promise<void> {
    this.spec(name);
    await this.tasks.setPaused(name, paused, Date.now());
    if (paused) this.paused.add(name);
    else this.paused.delete(name);
    this.pauseChanges++;
    this.pump();
  }

  isPaused(name: string): boolean {
    return this.paused.has(name);
  }

  runningIn(queue: string): number {
    let n = 0;
    for (const r of this.running.values()) if (r.queue === queue) n++;
    return n;
  }

  private async tick(): Promise<void> {
    try {
      await this.tasks.expireLeases(Date.now());
      const changes = this.pauseChanges;
      const paused = await this.tasks.pausedQueues();
      if (changes === this.pauseChanges) this.paused = paused;
    } catch (err) {
      this.options.log.warn(`queue upkeep failed: ${(err as Error).message}`);
    }
    this.pump();
  }

  /** Claims and starts tasks while there is room; one pass at a time, again if asked meanwhile. */
  private pump(): void {
    if (!this.runner || this.closed) return;
    if (this.pumping) {
      this.again = true;
      return;
    }
    this.pumping = true;
    void this.fill()
      .catch((err: Error) => this.options.log.warn(`queue dispatch failed: ${err.message}`))
      .finally(() => {
        this.pumping = false;
        if (this.again) {
          this.again = false;
          this.pump();
        }
      });
  }

  private async fill(): Promise<void> {
    const queues = this.configs
      .list()
      .map((s) => s.spec)
      .filter((s) => s.consumer === "gateway")
      .sort((a, b) => b.priority - a.priority);
    // Each start scans again from the highest priority, so a lower queue only gets room the higher ones leave.
    scan: while (this.running.size < this.options.maxRunning && !this.closed) {
      for (const spec of queues) {
        if (this.paused.has(spec.name) || this.runningIn(spec.name) >= spec.concurrency) continue;
        // One step of batch work per turn of the event loop: interactive requests' sockets are read between claims.
        await batchTurn();
        const task = await this.tasks.claim(spec.name, this.options.replicaId, Date.now(), this.options.leaseGraceMs);
        if (!task) continue;
        this.run(task, spec);
        continue scan;
      }
      return;
    }
  }

  private run(task: TaskRow, spec: QueueSpec): void {
    const abort = new AbortController();
    this.running.set(task.id, { queue: spec.name, abort });
    const owner = this.options.replicaId;
    const beat = setInterval(() => {
      const now = Date.now();
      void this.tasks.heartbeat(task.id, owner, now + task.timeout_ms + this.options.leaseGraceMs, now).then(({ held, cancelRequested }) => {
        if (!held) abort.abort("lease");
        else if (cancelRequested) abort.abort("cancel");
      }, () => undefined);
    }, Math.min(HEARTBEAT_MAX_MS, Math.max(100, task.timeout_ms / 3)));
    const deadline = setTimeout(() => abort.abort("timeout"), task.timeout_ms);
    const entry = this.running.get(task.id) as { settled?: Promise<void> };
    entry.settled = this.execute(task, spec, abort.signal)
      .catch((err: Error) => void this.options.log.warn(`task ${task.id} could not be recorded: ${err.message}`))
      .then((after) => {
        if (after) this.ended(after);
      })
      .finally(() => {
        clearInterval(beat);
        clearTimeout(deadline);
        this.running.delete(task.id);
        this.pump();
      });
  }

  /**
   * Runs one attempt and records how it ended: done, cancelled, given back, or failed (retried while
   * attempts remain). The row as recorded; undefined when another consumer holds the task now.
   */
  private async execute(task: TaskRow, spec: QueueSpec, signal: AbortSignal): Promise<TaskRow | undefined> {
    const owner = this.options.replicaId;
    const now = () => Date.now();
    let result: unknown;
    let failure: Error | undefined;
    // An attempt ends when it is stopped, even if the runner cannot be (an in-process request runs on; its answer is dropped).
    const stopped = new Promise<never>((_, reject) => signal.addEventListener("abort", () => reject(new Error("stopped")), { once: true }));
    try {
      const runner = this.ownRunners.get(task.queue) ?? (this.runner as TaskRunner);
      result = await Promise.race([runner(task, spec, signal), stopped]);
    } catch (err) {
      failure = err as Error;
    }
    const stoppedBy = signal.aborted ? (signal.reason as string) : undefined;
    await batchTurn();
    switch (stoppedBy) {
      case "lease":
        return undefined;
      case "cancel":
        return this.tasks.finish(task.id, owner, { state: "cancelled" }, now());
      case "closing":
        return this.tasks.failAttempt(task.id, owner, "the gateway stopped while it ran", now(), now());
      case "timeout":
        return this.failed(task, owner, `timed out after ${task.timeout_ms / 1000} s`, true);
    }
    if (!failure) return this.succeeded(task.id, owner, result);
    return this.failed(task, owner, failure.message, !(failure instanceof PermanentTaskError));
  }

  /** Records a finished attempt's result: the ended row, or undefined when `owner` no longer holds the task. */
  succeeded(id: string, owner: string, result: unknown): Promise<TaskRow | undefined> {
    return this.tasks.finish(id, owner, { state: "completed", result: JSON.stringify(result ?? null) }, Date.now());
  }

  /** Records a failed attempt: retried with the queue's backoff while attempts remain, unless no retry can help. The row after it, or undefined when `owner` no longer holds the task. */
  failed(task: TaskRow, owner: string, error: string, retryable: boolean): Promise<TaskRow | undefined> {
    const now = Date.now();
    if (!retryable) return this.tasks.finish(task.id, owner, { state: "failed", error }, now);
    const spec = this.configs.get(task.queue);
    const backoff = Math.min(MAX_RETRY_DELAY_MS, (spec?.backoff_ms ?? 0) * 2 ** Math.max(0, task.attempts - 1));
    return this.tasks.failAttempt(task.id, owner, error, now + backoff, now);
  }

  /** Up to `limit` tasks of `queue` for a queue worker (`owner`); none while the queue is paused. */
  async claimFor(queue: string, owner: string, limit: number): Promise<TaskRow[]> {
    if (this.paused.has(queue)) return [];
    return this.tasks.claimUpTo(queue, owner, Date.now(), this.options.leaseGraceMs, limit);
  }

  /** How long a lease outlives a task's timeout. */
  get leaseGraceMs(): number {
    return this.options.leaseGraceMs;
  }

  /** Tells the webhook (and any listener) how an attempt ended, from the row as recorded. */
  ended(row: TaskRow): void {
    if (row.state !== "active") this.emit("ended", row);
  }

  /** Stops consuming; tasks running here are given back (their leases lapse and another consumer retries them). */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    const running = [...this.running.values()];
    for (const r of running) r.abort.abort("closing");
    await Promise.all(running.map((r) => r.settled));
  }
}

import { randomUUID } from "node:crypto";
import { Job, Queue, UnrecoverableError, Worker } from "bullmq";
import { Redis } from "ioredis";
import { redisTaskRepo, type RedisTaskRepo } from "./redis-task-repo.js";
import { AttemptFailed, bullmqKeyPrefix, dueAt, FAILURE_ENDS, jobDataOf, jobOptsOf, rowOf, untilRetryAt, waitingState, type FailureEnd, type JobData } from "./bullmq-jobs.js";
import type { TaskRow, TaskState } from "./schema.js";
import type { QueueCounts, TaskEnd } from "./task-repo.js";

/**
 * The job queue on BullMQ: each task is a BullMQ job (id = task id) in the
 * BullMQ queue of its name, under `${prefix}bull`, so Bull Board, Taskforce and
 * BullMQ's own tools see the queues. Waiting, delays, claims (`getNextJob`),
 * locks as leases (`extendLock`), retries with backoff (`moveToFailed`) and
 * completion are BullMQ's. What BullMQ has no state for is kept beside it, under
 * `${prefix}bullmq:`:
 *   queue-of              hash, task id -> queue (lookup by id alone)
 *   queues, paused        sets of queue names
 *   q:{queue}:all         zset of its tasks by created_at (listing newest first)
 *   q:{queue}:end:{state} zset by finished_at of the tasks BullMQ holds as failed that ended
 *                         failed, archived (dead letter) or cancelled
 *   tomb:{id}             the row of a task cancelled before it started (BullMQ can only remove a waiting job)
 *   cancel-requested      set of active tasks asked to stop
 * How a task is a job, and which job is in which task state: bullmq-jobs.ts.
 * Queue workers are kept as the Lua backend keeps them, under the side prefix.
 */

/** BullMQ's codes for a job that is gone, not locked, locked by another token, or not active. */
const LOST = new Set([-1, -2, -3, -6]);
const RECENT_MS = 60_000;
/** How long a lease expiry holds a job it takes over (the time one failed attempt takes to record). */
const TAKEOVER_MS = 10_000;
const CLAIM_BATCH = 32;
/** Task ids whose queue is remembered in memory (their queue never changes); past this the memory starts afresh. */
const QUEUE_OF_CACHED = 100_000;
/** A connection's errors come back from the calls that need it (as 503 through unavailableAs503); as events they would crash the process. */
const ignoreOutage = () => undefined;
const EXPIRED = "the consumer holding it stopped answering (lease expired)";
/** Deletes a lock only if it is still the given token's (a claim may have set its own meanwhile). */
const RELEASE = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0";

export function bullmqTaskRepo(url: string, prefix: string): RedisTaskRepo {
  const bullPrefix = bullmqKeyPrefix(prefix);
  const S = `${prefix}bullmq:`;
  // Commands fail after two reconnects rather than wait for Redis forever: the gateway answers 503 meanwhile.
  const redis = new Redis(url, { maxRetriesPerRequest: 2 });
  // BullMQ's workers want connections that retry forever; this one fails at once while Redis is away instead.
  const workerRedis = new Redis(url, { maxRetriesPerRequest: null, enableOfflineQueue: false });
  redis.on("error", ignoreOutage);
  workerRedis.on("error", ignoreOutage);
  const workersRepo = redisTaskRepo(url, S);
  const queues = new Map<string, Queue>();
  const workers = new Map<string, Worker>();
  const queueOfId = new Map<string, string>();
  let closed = false;
  /** A closed BullMQ worker quietly claims nothing; a closed store must say so, as the others do (a long-poll ends on it). */
  const open = () => {
    if (closed) throw new Error("the task store (BullMQ) is closed");
  };

  const settings = { backoffStrategy: untilRetryAt };
  const queueNamed = (name: string): Queue => {
    open();
    let queue = queues.get(name);
    if (!queue) {
      queues.set(name, (queue = new Queue(name, { connection: redis, prefix: bullPrefix })));
      queue.on("error", ignoreOutage);
    }
    return queue;
  };
  const workerOf = (name: string): Worker => {
    open();
    let worker = workers.get(name);
    if (!worker) {
      workers.set(name, (worker = new Worker(name, null, { connection: workerRedis, prefix: bullPrefix, autorun: false, lockDuration: 30_000, settings })));
      worker.on("error", ignoreOutage);
    }
    return worker;
  };
  const bullKey = (queue: string, id: string, part = "") => `${bullPrefix}:${queue}:${id}${part}`;
  const listKey = (queue: string, list: string) => `${bullPrefix}:${queue}:${list}`;
  const endKey = (queue: string, state: FailureEnd) => `${S}q:${queue}:end:${state}`;

  async function queueOf(id: string): Promise<string | undefined> {
    const known = queueOfId.get(id);
    if (known) return known;
    const queue = await redis.hget(`${S}queue-of`, id);
    if (queue) remember(id, queue);
    return queue ?? undefined;
  }

  function remember(id: string, queue: string): void {
    if (queueOfId.size >= QUEUE_OF_CACHED) queueOfId.clear();
    queueOfId.set(id, queue);
  }

  async function jobOf(id: string): Promise<Job<JobData> | undefined> {
    const queue = await queueOf(id);
    return queue ? Job.fromId<JobData>(workerOf(queue), id) : undefined;
  }

  /** Runs a BullMQ move that needs the lease; false when the lease was lost (the job ended, moved on or is locked by another). */
  async function withLease(move: () => Promise<unknown>): Promise<boolean> {
    try {
      await move();
      return true;
    } catch (err) {
      if (LOST.has((err as { code?: number }).code as number)) return false;
      throw err;
    }
  }

  /**
   * What BullMQ's failed state stands for, for this task: written before the move that fails it, so that
   * no read finds it failed without it; null for a move that does not end it (a retry, a completion).
   */
  async function markEnd(job: Job<JobData>, end: FailureEnd | null, now: number): Promise<void> {
    const multi = redis.multi();
    for (const state of FAILURE_ENDS) {
      if (state === end) multi.zadd(endKey(job.queueName, state), now, job.id as string);
      else multi.zrem(endKey(job.queueName, state), job.id as string);
    }
    await multi.exec();
  }

  /** A move that needs `token`'s lease, after its end is marked; undefined when the lease was lost. */
  async function ending(job: Job<JobData>, token: string, end: FailureEnd | null, now: number, move: () => Promise<unknown>): Promise<true | undefined> {
    if (end) {
      // Not marked over whoever ended it instead.
      if ((await redis.get(bullKey(job.queueName, job.id as string, ":lock"))) !== token) return undefined;
      await markEnd(job, end, now);
    }
    if (!(await withLease(move))) {
      if (end) await markEnd(job, null, now);
      return undefined;
    }
    await redis.srem(`${S}cancel-requested`, job.id as string);
    return true;
  }

  async function attemptFailed(job: Job<JobData>, token: string, error: string, retryAt: number, now: number): Promise<TaskRow | undefined> {
    const last = job.attemptsStarted >= job.data.max_attempts;
    const state = last ? (job.data.dead_letter ? "archived" : "failed") : "retry";
    const err = last ? new UnrecoverableError(error) : new AttemptFailed(error, retryAt);
    if (!(await ending(job, token, state === "retry" ? null : state, now, () => job.moveToFailed(err, token, false)))) return undefined;
    return rowOf(job, state, { error, run_at: retryAt, updated_at: now, finished_at: last ? now : null });
  }

  /** Waiting and delayed jobs of a queue with what tells pending, scheduled and retry apart. */
  async function waiting(queue: string): Promise<Array<{ id: string; state: ReturnType<typeof waitingState>; created: number; runAt: number }>> {
    const [[, wait], [, prioritized], [, delayed]] = (await redis
      .multi()
      .lrange(listKey(queue, "wait"), 0, -1)
      .zrange(listKey(queue, "prioritized"), 0, -1)
      .zrange(listKey(queue, "delayed"), 0, -1, "WITHSCORES")
      .exec()) as [[null, string[]], [null, string[]], [null, string[]]];
    const entries: Array<{ id: string; delayed: boolean; runAt: number }> = [...wait, ...prioritized].map((id) => ({ id, delayed: false, runAt: 0 }));
    for (let i = 0; i < delayed.length; i += 2) entries.push({ id: delayed[i] as string, delayed: true, runAt: dueAt(delayed[i + 1] as string) });
    const pipeline = redis.pipeline();
    for (const e of entries) pipeline.hmget(bullKey(queue, e.id), "ats", "timestamp");
    const fields = ((await pipeline.exec()) ?? []).map(([, f]) => f as [string | null, string | null]);
    return entries.map((e, i) => {
      const [ats, timestamp] = fields[i] ?? [null, null];
      const created = Number(timestamp ?? 0);
      return { id: e.id, state: waitingState(Number(ats ?? 0), e.delayed), created, runAt: e.delayed ? e.runAt : created };
    });
  }

  const repo: RedisTaskRepo = {
    async insert(rows) {
      const byQueue = new Map<string, TaskRow[]>();
      for (const row of rows) {
        const list = byQueue.get(row.queue);
        if (list) list.push(row);
        else byQueue.set(row.queue, [row]);
      }
      for (const [queue, list] of byQueue) {
        // A batch goes in claim order, as the SQL backends claim it.
        list.sort((a, b) => a.run_at - b.run_at || a.created_at - b.created_at);
        const side = redis.multi().sadd(`${S}queues`, queue);
        for (const row of list) {
          side.hset(`${S}queue-of`, row.id, queue).zadd(`${S}q:${queue}:all`, row.created_at, row.id);
          remember(row.id, queue);
        }
        await side.exec();
        await queueNamed(queue).addBulk(
          list.map((row) => ({
            name: "task",
            data: jobDataOf(row),
            opts: jobOptsOf(row),
          })),
        );
      }
    },
    async claim(queue, owner, now, graceMs) {
      return (await repo.claimUpTo(queue, owner, now, graceMs, 1))[0];
    },
    async claimUpTo(queue, owner, now, graceMs, limit) {
      const worker = workerOf(queue);
      const jobs: Job<JobData>[] = [];
      while (jobs.length < limit) {
        const batch = await Promise.all(Array.from({ length: Math.min(CLAIM_BATCH, limit - jobs.length) }, () => worker.getNextJob(owner, { block: false }) as Promise<Job<JobData> | undefined>));
        const got = batch.filter((job): job is Job<JobData> => job !== undefined);
        jobs.push(...got);
        if (got.length < batch.length) break;
      }
      // Each lease as long as its own task's timeout, on the wall clock Redis expires locks by.
      const rows = jobs.map((job) => rowOf(job, "active", { lease_owner: owner, lease_until: now + job.data.timeout_ms + graceMs, started_at: now, updated_at: now }));
      await Promise.all(jobs.map((job, i) => job.extendLock(owner, Math.max(1, ((rows[i] as TaskRow).lease_until as number) - Date.now()))));
      return rows;
    },
    async heartbeat(id, owner, leaseUntil) {
      const queue = await queueOf(id);
      if (!queue) return { held: false, cancelRequested: false };
      const held = (await new Job(workerOf(queue), "task", {}, {}, id).extendLock(owner, Math.max(1, leaseUntil - Date.now()))) === 1;
      return { held, cancelRequested: held && (await redis.sismember(`${S}cancel-requested`, id)) === 1 };
    },
    async finish(id, owner, end: TaskEnd, now) {
      const job = await jobOf(id);
      if (!job) return undefined;
      const move = end.state === "completed" ? () => job.moveToCompleted(end.result ?? null, owner, false) : () => job.moveToFailed(new UnrecoverableError(end.error ?? ""), owner, false);
      if (!(await ending(job, owner, end.state === "completed" ? null : end.state, now, move))) return undefined;
      return rowOf(job, end.state, { result: end.result ?? null, error: end.error ?? null, updated_at: now, finished_at: now });
    },
    async failAttempt(id, owner, error, retryAt, now) {
      const job = await jobOf(id);
      return job ? attemptFailed(job, owner, error, retryAt, now) : undefined;
    },
    async expireLeases(now) {
      let expired = 0;
      for (const queue of await redis.smembers(`${S}queues`)) {
        const active = await redis.lrange(listKey(queue, "active"), 0, -1);
        if (active.length === 0) continue;
        // The lock is the lease: once Redis has expired it, whoever sets it anew owns the job's failed attempt.
        // A lock also goes when its holder ends the job: only a job still active once locked is expired.
        const token = `lease-expiry:${randomUUID()}`;
        const takeovers = redis.pipeline();
        for (const id of active) takeovers.set(bullKey(queue, id, ":lock"), token, "PX", TAKEOVER_MS, "NX");
        const replies = (await takeovers.exec()) ?? [];
        const taken = active.filter((_, i) => replies[i]?.[1] === "OK");
        for (const id of taken) {
          const lock = bullKey(queue, id, ":lock");
          const job = (await redis.lpos(listKey(queue, "active"), id)) === null ? undefined : await Job.fromId<JobData>(workerOf(queue), id);
          const row = job ? await attemptFailed(job, token, EXPIRED, now, now) : undefined;
          if (row) expired++;
          else await redis.eval(RELEASE, 1, lock, token);
        }
      }
      return expired;
    },
    async cancel(id, now) {
      const job = await jobOf(id);
      if (!job) return repo.get(id);
      const state = await job.getState();
      if (state !== "waiting" && state !== "delayed" && state !== "prioritized") {
        if (state === "active") await redis.sadd(`${S}cancel-requested`, id);
        return repo.get(id);
      }
      // Kept first, then taken out of BullMQ, so a crash between leaves the task findable.
      const row = rowOf(job, "cancelled", { updated_at: now, finished_at: now });
      await redis.multi().set(`${S}tomb:${id}`, JSON.stringify(row)).zadd(endKey(job.queueName, "cancelled"), now, id).exec();
      try {
        await job.remove();
        return row;
      } catch {
        // Claimed meanwhile: an active task is asked to stop instead.
        await redis.multi().del(`${S}tomb:${id}`).zrem(endKey(job.queueName, "cancelled"), id).sadd(`${S}cancel-requested`, id).exec();
        return repo.get(id);
      }
    },
    async get(id) {
      const [[, tomb], [, queue]] = (await redis.multi().get(`${S}tomb:${id}`).hget(`${S}queue-of`, id).exec()) as [[null, string | null], [null, string | null]];
      if (tomb) return JSON.parse(tomb) as TaskRow;
      if (!queue) return undefined;
      // The state first: once it is an end, the job's fields read after it are final.
      const bullState = await queueNamed(queue).getJobState(id);
      const job = await Job.fromId<JobData>(workerOf(queue), id);
      if (!job) return undefined;
      const side = redis.multi().get(bullKey(queue, id, ":lock")).pttl(bullKey(queue, id, ":lock")).sismember(`${S}cancel-requested`, id);
      for (const end of FAILURE_ENDS) side.zscore(endKey(queue, end), id);
      side.zscore(listKey(queue, "delayed"), id);
      const [[, owner], [, ttl], [, requested], ...scores] = (await side.exec()) as Array<[null, unknown]>;
      if (bullState === "active") return rowOf(job, "active", { lease_owner: owner as string | null, lease_until: (ttl as number) > 0 ? Date.now() + (ttl as number) : null, cancel_requested: requested === 1 ? 1 : 0 });
      if (bullState === "completed") return rowOf(job, "completed");
      if (bullState === "failed") {
        const at = FAILURE_ENDS.findIndex((_, i) => scores[i]?.[1] !== null);
        const state: FailureEnd = at >= 0 ? (FAILURE_ENDS[at] as FailureEnd) : job.data.dead_letter ? "archived" : "failed";
        return rowOf(job, state, { finished_at: at >= 0 ? Number(scores[at]?.[1]) : (job.finishedOn ?? null) });
      }
      const delayedScore = scores[FAILURE_ENDS.length]?.[1];
      const runAt = delayedScore !== null && delayedScore !== undefined ? dueAt(delayedScore as string) : job.data.run_at;
      return rowOf(job, waitingState(job.attemptsStarted, bullState === "delayed"), { run_at: runAt });
    },
    async list(queue, state, limit, offset) {
      let ids: string[];
      if (state === undefined) ids = await redis.zrevrange(`${S}q:${queue}:all`, offset, offset + limit - 1);
      else if (state === "active") ids = await redis.lrange(listKey(queue, "active"), offset, offset + limit - 1);
      else if (state === "completed") ids = await redis.zrevrange(listKey(queue, "completed"), offset, offset + limit - 1);
      else if (state === "failed" || state === "archived" || state === "cancelled") ids = await redis.zrevrange(endKey(queue, state), offset, offset + limit - 1);
      else {
        const matching = (await waiting(queue)).filter((e) => e.state === state).sort((a, b) => b.created - a.created || (a.id < b.id ? 1 : -1));
        ids = matching.slice(offset, offset + limit).map((e) => e.id);
      }
      const rows = await Promise.all(ids.map((id) => repo.get(id)));
      return rows.filter((row): row is TaskRow => row !== undefined);
    },
    async remove(id) {
      const queue = await queueOf(id);
      if (!queue) return false;
      // An active task is removed too, as in the SQL backends: its consumer's lease is gone with its lock.
      await redis.del(bullKey(queue, id, ":lock"));
      const removed = (await queueNamed(queue).remove(id)) === 1;
      const side = redis.multi().del(`${S}tomb:${id}`).hdel(`${S}queue-of`, id).zrem(`${S}q:${queue}:all`, id).srem(`${S}cancel-requested`, id);
      for (const end of FAILURE_ENDS) side.zrem(endKey(queue, end), id);
      const replies = (await side.exec()) ?? [];
      queueOfId.delete(id);
      return removed || replies[0]?.[1] === 1;
    },
    async counts(queue, now): Promise<QueueCounts> {
      const ready = await waiting(queue);
      const multi = redis.multi().llen(listKey(queue, "active")).zcard(listKey(queue, "completed")).zcount(listKey(queue, "completed"), now - RECENT_MS, "+inf");
      for (const end of FAILURE_ENDS) multi.zcard(endKey(queue, end));
      const [[, active], [, completed], [, recent], ...ends] = (await multi.exec()) as Array<[null, number]>;
      const counts: Partial<Record<TaskState, number>> = {};
      const add = (state: TaskState, n: number) => {
        if (n > 0) counts[state] = (counts[state] ?? 0) + n;
      };
      for (const e of ready) add(e.state, 1);
      add("active", active);
      add("completed", completed);
      FAILURE_ENDS.forEach((end, i) => add(end, ends[i]?.[1] ?? 0));
      const oldest = ready.reduce((min, e) => (e.runAt <= now && e.created < min ? e.created : min), Infinity);
      return { counts, completedLastMinute: recent, oldestReadyAt: oldest === Infinity ? null : oldest };
    },
    async setPaused(queue, paused) {
      await (paused ? queueNamed(queue).pause() : queueNamed(queue).resume());
      await (paused ? redis.sadd(`${S}paused`, queue) : redis.srem(`${S}paused`, queue));
    },
    async pausedQueues() {
      return new Set(await redis.smembers(`${S}paused`));
    },
    registerWorker: (id, queue, now) => workersRepo.registerWorker(id, queue, now),
    touchWorker: (id, now, change) => workersRepo.touchWorker(id, now, change),
    workers: () => workersRepo.workers(),
    worker: (id) => workersRepo.worker(id),
    async close() {
      closed = true;
      await Promise.all([...workers.values()].map((w) => w.close()));
      await Promise.all([...queues.values()].map((q) => q.close()));
      await workersRepo.close();
      redis.disconnect();
      workerRedis.disconnect();
    },
  };
  return repo;
}

import { Redis } from "ioredis";
import type { QueueWorkerRow, TaskRow, TaskState } from "./schema.js";
import type { QueueCounts, TaskRepo } from "./task-repo.js";

/**
 * The job queue on Redis: the TaskRepo contract the SQL backends keep, each
 * change one Lua script so it is atomic and one round trip. Keys under `prefix`:
 *   task:{id}         hash, the task's row (a null column is an absent field)
 *   q:{queue}:ready   zset of ready tasks by run_at, members "{created_at, 15 digits}:{id}" so that
 *                     equal run_ats go oldest first (claims take the lowest)
 *   q:{queue}:all     zset of its tasks by created_at (listing)
 *   q:{queue}:s:{st}  zset of its tasks in state st by created_at (counts, listing by state)
 *   q:{queue}:done    zset of tasks completed in the last minute, by finished_at
 *   active            zset of leased tasks by lease_until (expiry)
 *   paused            set of paused queue names
 *   worker:{id}, workers   queue workers
 * Keys are built inside the scripts, so this is for one Redis server, not a Redis Cluster.
 */
export interface RedisTaskRepo extends TaskRepo {
  close(): Promise<void>;
}

const STATES: TaskState[] = ["pending", "scheduled", "active", "retry", "completed", "failed", "cancelled", "archived"];
const NUMERIC = new Set(["attempts", "max_attempts", "dead_letter", "timeout_ms", "run_at", "lease_until", "cancel_requested", "created_at", "updated_at", "started_at", "finished_at"]);
const TASK_FIELDS: (keyof TaskRow)[] = [
  "id", "queue", "state", "data", "result", "error", "attempts", "max_attempts", "dead_letter", "timeout_ms", "run_at", "lease_owner",
  "lease_until", "cancel_requested", "user_id", "key_id", "webhook_url", "created_at", "updated_at", "started_at", "finished_at",
];
const EXPIRE_BATCH = 500;
const RECENT_MS = 60_000;

const PRELUDE = `
local P = ARGV[1]
local function tkey(id) return P .. 'task:' .. id end
local function qkey(q, part) return P .. 'q:' .. q .. ':' .. part end
local READY = { pending = true, scheduled = true, retry = true }
local function rmember(created, id) return string.rep('0', 15 - #created) .. created .. ':' .. id end
local function move(id, q, from, to, created)
  redis.call('ZREM', qkey(q, 's:' .. from), id)
  redis.call('ZADD', qkey(q, 's:' .. to), created, id)
end
-- A failed attempt: retried at retryAt while attempts remain, else failed, or archived with a dead letter.
local function fail_attempt(id, err, retryAt, now)
  local k = tkey(id)
  local f = redis.call('HMGET', k, 'queue', 'attempts', 'max_attempts', 'dead_letter', 'created_at')
  local q = f[1]
  local to = 'retry'
  if tonumber(f[2]) >= tonumber(f[3]) then
    if f[4] == '1' then to = 'archived' else to = 'failed' end
    redis.call('HSET', k, 'finished_at', now)
  else
    redis.call('HDEL', k, 'finished_at')
    redis.call('ZADD', qkey(q, 'ready'), retryAt, rmember(f[5], id))
  end
  redis.call('HSET', k, 'state', to, 'run_at', retryAt, 'error', err, 'updated_at', now)
  redis.call('HDEL', k, 'lease_owner', 'lease_until')
  redis.call('ZREM', P .. 'active', id)
  move(id, q, 'active', to, f[5])
  return to
end
local function held(k, owner)
  local f = redis.call('HMGET', k, 'state', 'lease_owner')
  return f[1] == 'active' and f[2] == owner
end
`;

const SCRIPTS = {
  // ARGV: prefix, JSON [[id, queue, state, created_at, run_at, lease_until or '', field, value, ...], ...] (every value a string)
  fltInsert: `
for _, row in ipairs(cjson.decode(ARGV[2])) do
  local id, q, st, created, runAt, lease = row[1], row[2], row[3], row[4], row[5], row[6]
  redis.call('HSET', tkey(id), unpack(row, 7))
  redis.call('ZADD', qkey(q, 'all'), created, id)
  redis.call('ZADD', qkey(q, 's:' .. st), created, id)
  if READY[st] then redis.call('ZADD', qkey(q, 'ready'), runAt, rmember(created, id)) end
  if st == 'active' and lease ~= '' then redis.call('ZADD', P .. 'active', lease, id) end
end
return 1`,
  // ARGV: prefix, queue, owner, now, grace, limit; the claimed rows in claim order
  fltClaim: `
local q, owner, now, grace = ARGV[2], ARGV[3], tonumber(ARGV[4]), tonumber(ARGV[5])
local members = redis.call('ZRANGEBYSCORE', qkey(q, 'ready'), '-inf', now, 'LIMIT', 0, tonumber(ARGV[6]))
local out = {}
for _, member in ipairs(members) do
  redis.call('ZREM', qkey(q, 'ready'), member)
  local id = string.sub(member, 17)
  local k = tkey(id)
  local f = redis.call('HMGET', k, 'state', 'timeout_ms', 'created_at')
  local lease = now + tonumber(f[2]) + grace
  redis.call('HINCRBY', k, 'attempts', 1)
  redis.call('HSET', k, 'state', 'active', 'lease_owner', owner, 'lease_until', lease, 'started_at', now, 'updated_at', now)
  redis.call('ZADD', P .. 'active', lease, id)
  move(id, q, f[1], 'active', f[3])
  out[#out + 1] = redis.call('HGETALL', k)
end
return out`,
  // ARGV: prefix, id, owner, leaseUntil, now
  fltHeartbeat: `
local id = ARGV[2]
local k = tkey(id)
if not held(k, ARGV[3]) then return { 0, 0 } end
redis.call('HSET', k, 'lease_until', ARGV[4], 'updated_at', ARGV[5])
redis.call('ZADD', P .. 'active', ARGV[4], id)
if redis.call('HGET', k, 'cancel_requested') == '1' then return { 1, 1 } end
return { 1, 0 }`,
  // ARGV: prefix, id, owner, state, now, result or '', has result, error or '', has error; the ended row
  fltFinish: `
local id, to, now = ARGV[2], ARGV[4], tonumber(ARGV[5])
local k = tkey(id)
if not held(k, ARGV[3]) then return false end
local f = redis.call('HMGET', k, 'queue', 'created_at')
redis.call('HSET', k, 'state', to, 'finished_at', now, 'updated_at', now)
if ARGV[7] == '1' then redis.call('HSET', k, 'result', ARGV[6]) else redis.call('HDEL', k, 'result') end
if ARGV[9] == '1' then redis.call('HSET', k, 'error', ARGV[8]) else redis.call('HDEL', k, 'error') end
redis.call('HDEL', k, 'lease_owner', 'lease_until')
redis.call('ZREM', P .. 'active', id)
move(id, f[1], 'active', to, f[2])
if to == 'completed' then
  redis.call('ZADD', qkey(f[1], 'done'), now, id)
  redis.call('ZREMRANGEBYSCORE', qkey(f[1], 'done'), '-inf', '(' .. (now - ${RECENT_MS}))
end
return redis.call('HGETALL', k)`,
  // ARGV: prefix, id, owner, error, retryAt, now
  fltFailAttempt: `
if not held(tkey(ARGV[2]), ARGV[3]) then return false end
fail_attempt(ARGV[2], ARGV[4], ARGV[5], ARGV[6])
return redis.call('HGETALL', tkey(ARGV[2]))`,
  // ARGV: prefix, now, error, batch
  fltExpire: `
local ids = redis.call('ZRANGEBYSCORE', P .. 'active', '-inf', '(' .. ARGV[2], 'LIMIT', 0, tonumber(ARGV[4]))
for _, id in ipairs(ids) do
  if redis.call('HGET', tkey(id), 'state') == 'active' then fail_attempt(id, ARGV[3], ARGV[2], ARGV[2])
  else redis.call('ZREM', P .. 'active', id) end
end
return #ids`,
  // ARGV: prefix, id, now
  fltCancel: `
local id, now = ARGV[2], ARGV[3]
local k = tkey(id)
local f = redis.call('HMGET', k, 'state', 'queue', 'created_at')
if not f[1] then return false end
if READY[f[1]] then
  redis.call('HSET', k, 'state', 'cancelled', 'finished_at', now, 'updated_at', now)
  redis.call('ZREM', qkey(f[2], 'ready'), rmember(f[3], id))
  move(id, f[2], f[1], 'cancelled', f[3])
elseif f[1] == 'active' then
  redis.call('HSET', k, 'cancel_requested', 1, 'updated_at', now)
end
return redis.call('HGETALL', k)`,
  // ARGV: prefix, id
  fltRemove: `
local id = ARGV[2]
local f = redis.call('HMGET', tkey(id), 'state', 'queue', 'created_at')
if not f[1] then return 0 end
redis.call('DEL', tkey(id))
redis.call('ZREM', qkey(f[2], 'ready'), rmember(f[3], id))
for _, part in ipairs({ 'all', 'done', 's:' .. f[1] }) do redis.call('ZREM', qkey(f[2], part), id) end
redis.call('ZREM', P .. 'active', id)
return 1`,
  // ARGV: prefix, queue, now; the count per state in STATES order, then completed in the last minute, then the oldest ready task's created_at (or -1)
  fltCounts: `
local q, now = ARGV[2], tonumber(ARGV[3])
local out = {}
for _, st in ipairs({ ${STATES.map((s) => `'${s}'`).join(", ")} }) do out[#out + 1] = redis.call('ZCARD', qkey(q, 's:' .. st)) end
out[#out + 1] = redis.call('ZCOUNT', qkey(q, 'done'), now - ${RECENT_MS}, '+inf')
local oldest = -1
local first = redis.call('ZRANGE', qkey(q, 's:pending'), 0, 0, 'WITHSCORES')
if #first > 0 and tonumber(redis.call('HGET', tkey(first[1]), 'run_at')) <= now then oldest = tonumber(first[2]) end
-- A scheduled or retried task counts once its time has come; the scan is bounded (these sets are small unless a backlog waits).
for _, st in ipairs({ 'scheduled', 'retry' }) do
  local ids = redis.call('ZRANGE', qkey(q, 's:' .. st), 0, 999, 'WITHSCORES')
  for i = 1, #ids, 2 do
    local created = tonumber(ids[i + 1])
    if oldest ~= -1 and created >= oldest then break end
    if tonumber(redis.call('HGET', tkey(ids[i]), 'run_at')) <= now then oldest = created break end
  end
end
out[#out + 1] = oldest
return out`,
  // ARGV: prefix, id, now, current task ('' keeps it, '-' clears it, else the id), completed, failed
  fltTouchWorker: `
local k = P .. 'worker:' .. ARGV[2]
if redis.call('EXISTS', k) == 0 then return 0 end
redis.call('HSET', k, 'last_seen', ARGV[3])
if ARGV[4] == '-' then redis.call('HDEL', k, 'current_task') elseif ARGV[4] ~= '' then redis.call('HSET', k, 'current_task', string.sub(ARGV[4], 2)) end
if ARGV[5] ~= '0' then redis.call('HINCRBY', k, 'completed', ARGV[5]) end
if ARGV[6] ~= '0' then redis.call('HINCRBY', k, 'failed', ARGV[6]) end
return 1`,
} as const;

type ScriptName = keyof typeof SCRIPTS;
type Scripted = Redis & Record<ScriptName, (...args: (string | number)[]) => Promise<unknown>>;

function toRow(flat: unknown): TaskRow | undefined {
  const list = flat as string[] | null;
  if (!list || list.length === 0) return undefined;
  const fields: Record<string, string> = {};
  for (let i = 0; i < list.length; i += 2) fields[list[i] as string] = list[i + 1] as string;
  return fromHash(fields);
}

function fromHash(fields: Record<string, string>): TaskRow | undefined {
  if (fields.id === undefined) return undefined;
  const row: Record<string, string | number | null> = {};
  for (const name of TASK_FIELDS) {
    const value = fields[name];
    row[name] = value === undefined ? null : NUMERIC.has(name) ? Number(value) : value;
  }
  return row as unknown as TaskRow;
}

/** What the insert script reads for one row: the keys' parts, then the hash's fields and values (a null column is left out). */
function insertRow(row: TaskRow): string[] {
  const out = [row.id, row.queue, row.state, String(row.created_at), String(row.run_at), row.lease_until === null ? "" : String(row.lease_until)];
  for (const name of TASK_FIELDS) {
    const value = row[name];
    if (value !== null && value !== undefined) out.push(name, String(value));
  }
  return out;
}

function workerFromHash(fields: Record<string, string>): QueueWorkerRow | undefined {
  if (fields.id === undefined) return undefined;
  return {
    id: fields.id,
    queue: fields.queue ?? "",
    registered_at: Number(fields.registered_at),
    last_seen: Number(fields.last_seen),
    current_task: fields.current_task ?? null,
    completed: Number(fields.completed ?? 0),
    failed: Number(fields.failed ?? 0),
  };
}

/** Opens the Redis task backend at `url`, its keys under `prefix`. */
export function redisTaskRepo(url: string, prefix = "flotilla:"): RedisTaskRepo {
  const redis = new Redis(url, { maxRetriesPerRequest: 2, enableAutoPipelining: true }) as Scripted;
  redis.on("error", () => undefined);
  for (const [name, body] of Object.entries(SCRIPTS)) redis.defineCommand(name, { numberOfKeys: 0, lua: PRELUDE + body });
  const P = prefix;
  const q = (queue: string, part: string) => `${P}q:${queue}:${part}`;
  const hashes = async (keys: string[]) => {
    const pipe = redis.pipeline();
    for (const key of keys) pipe.hgetall(key);
    const replies = (await pipe.exec()) ?? [];
    return replies.map(([err, value]) => {
      if (err) throw err;
      return value as Record<string, string>;
    });
  };
  const rows = async (ids: string[]) => (await hashes(ids.map((id) => `${P}task:${id}`))).map(fromHash).filter((r): r is TaskRow => r !== undefined);

  const repo: RedisTaskRepo = {
    async insert(list) {
      // One script for the whole batch: Redis does the per-row work, not this event loop.
      if (list.length > 0) await redis.fltInsert(P, JSON.stringify(list.map(insertRow)));
    },
    claim: async (queue, owner, now, graceMs) => (await repo.claimUpTo(queue, owner, now, graceMs, 1))[0],
    claimUpTo: async (queue, owner, now, graceMs, limit) => ((await redis.fltClaim(P, queue, owner, now, graceMs, limit)) as unknown[]).map(toRow).filter((r): r is TaskRow => r !== undefined),
    async heartbeat(id, owner, leaseUntil, now) {
      const [held, cancel] = (await redis.fltHeartbeat(P, id, owner, leaseUntil, now)) as [number, number];
      return { held: held === 1, cancelRequested: cancel === 1 };
    },
    async finish(id, owner, end, now) {
      const result = end.result ?? null;
      const error = end.error ?? null;
      return toRow(await redis.fltFinish(P, id, owner, end.state, now, result ?? "", result === null ? 0 : 1, error ?? "", error === null ? 0 : 1));
    },
    failAttempt: async (id, owner, error, retryAt, now) => toRow(await redis.fltFailAttempt(P, id, owner, error, retryAt, now)),
    async expireLeases(now) {
      let total = 0;
      for (;;) {
        const n = Number(await redis.fltExpire(P, now, "the consumer holding it stopped answering (lease expired)", EXPIRE_BATCH));
        total += n;
        if (n < EXPIRE_BATCH) return total;
      }
    },
    cancel: async (id, now) => toRow(await redis.fltCancel(P, id, now)),
    get: async (id) => fromHash(await redis.hgetall(`${P}task:${id}`)),
    async list(queue, state, limit, offset) {
      if (limit <= 0) return [];
      const ids = await redis.zrevrange(q(queue, state ? `s:${state}` : "all"), offset, offset + limit - 1);
      return rows(ids);
    },
    remove: async (id) => (await redis.fltRemove(P, id)) === 1,
    async counts(queue, now): Promise<QueueCounts> {
      const out = ((await redis.fltCounts(P, queue, now)) as number[]).map(Number);
      const counts: QueueCounts["counts"] = {};
      STATES.forEach((state, i) => {
        if ((out[i] ?? 0) > 0) counts[state] = out[i];
      });
      const oldest = out[STATES.length + 1] ?? -1;
      return { counts, completedLastMinute: out[STATES.length] ?? 0, oldestReadyAt: oldest < 0 ? null : oldest };
    },
    async setPaused(queue, paused) {
      await (paused ? redis.sadd(`${P}paused`, queue) : redis.srem(`${P}paused`, queue));
    },
    pausedQueues: async () => new Set(await redis.smembers(`${P}paused`)),
    async registerWorker(id, queue, now) {
      const key = `${P}worker:${id}`;
      const tx = redis.multi().hset(key, { id, queue, registered_at: now, last_seen: now }).hdel(key, "current_task").hsetnx(key, "completed", 0).hsetnx(key, "failed", 0).sadd(`${P}workers`, id);
      await tx.exec();
    },
    async touchWorker(id, now, change) {
      const current = change.currentTask === undefined ? "" : change.currentTask === null ? "-" : `=${change.currentTask}`;
      await redis.fltTouchWorker(P, id, now, current, change.completed ?? 0, change.failed ?? 0);
    },
    async workers() {
      const ids = await redis.smembers(`${P}workers`);
      const found = (await hashes(ids.map((id) => `${P}worker:${id}`))).map(workerFromHash).filter((w): w is QueueWorkerRow => w !== undefined);
      return found.sort((a, b) => (a.queue === b.queue ? (a.id < b.id ? -1 : a.id > b.id ? 1 : 0) : a.queue < b.queue ? -1 : 1));
    },
    worker: async (id) => workerFromHash(await redis.hgetall(`${P}worker:${id}`)),
    async close() {
      await redis.quit().catch(() => redis.disconnect());
    },
  };
  return repo;
}

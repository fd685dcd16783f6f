import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test, type TestContext } from "node:test";
import pg from "pg";
import { openStore, type Store, type TaskRepo } from "./index.js";
import { redisTaskRepo } from "./redis-task-repo.js";
import { taskRepoInThread } from "./task-thread.js";

/**
 * Test helper: runs one test body against every store backend, each on an empty
 * database: a temp SQLite dir, removed afterwards; on PostgreSQL, the test file's
 * one migrated schema, emptied of rows before each case (see sharedSchema).
 * PostgreSQL: FLOTILLA_TEST_DATABASE_URL, else the local default. When it does
 * not answer, its cases skip with a notice, or fail under FLOTILLA_REQUIRE_SERVICES=1.
 */
export const TEST_DATABASE_URL = process.env.FLOTILLA_TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const REQUIRED = process.env.FLOTILLA_REQUIRE_SERVICES === "1";

export type BackendName = "sqlite" | "postgres";

export interface Backend {
  readonly name: BackendName;
  /** Opens another store on the same database (the test's own store stays open). */
  open(): Promise<Store>;
}

interface Prepared extends Backend {
  cleanup(): Promise<void>;
}

/** Registers `${name} [sqlite]` and `${name} [postgres]`, each given a migrated store that is closed afterwards. */
export function forEachBackend(name: string, fn: (store: Store, backend: Backend, t: TestContext) => Promise<void>): void {
  dropSharedSchemaAfterwards();
  for (const backendName of ["sqlite", "postgres"] as const) {
    test(`${name} [${backendName}]`, async (t) => {
      const backend = backendName === "sqlite" ? sqliteBackend() : await postgresBackend(t);
      if (!backend) return;
      try {
        const store = await backend.open();
        try {
          await fn(store, backend, t);
        } finally {
          await store.close();
        }
      } finally {
        await backend.cleanup();
      }
    });
  }
}

function sqliteBackend(): Prepared & { dataDir: string } {
  const dir = mkdtempSync(join(tmpdir(), "flotilla-store-"));
  return { name: "sqlite", dataDir: dir, open: () => openStore({ dataDir: dir }), cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
}

/** undefined when PostgreSQL is unreachable and not required (the test is then marked skipped). */
async function postgresBackend(t: TestContext): Promise<Prepared | undefined> {
  if (!(await postgresOrSkip(t))) return undefined;
  const { schema, empty } = await sharedSchema();
  await admin(empty);
  const dir = mkdtempSync(join(tmpdir(), "flotilla-store-"));
  return {
    name: "postgres",
    open: () => openStore({ dataDir: dir, databaseUrl: TEST_DATABASE_URL, schema }),
    cleanup: async () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** The schema a test file's PostgreSQL cases share, and the statements that empty it. */
let shared: Promise<{ schema: string; empty: string }> | undefined;

/**
 * Creating and migrating a schema costs PostgreSQL seconds (a hundred DDL statements and
 * Kysely's catalog reads), more than most cases themselves: each test file migrates one
 * schema, at its first PostgreSQL case, and every case starts on it emptied of rows. A
 * table's rows go before the rows they reference, in one round trip.
 */
function sharedSchema(): Promise<{ schema: string; empty: string }> {
  shared ??= (async () => {
    const schema = `flotilla_test_${randomBytes(6).toString("hex")}`;
    await admin(`create schema ${schema}`);
    const dir = mkdtempSync(join(tmpdir(), "flotilla-store-"));
    await (await openStore({ dataDir: dir, databaseUrl: TEST_DATABASE_URL, schema })).close();
    rmSync(dir, { recursive: true, force: true });
    const client = new pg.Client({ connectionString: TEST_DATABASE_URL, connectionTimeoutMillis: 3000 });
    await client.connect();
    try {
      const tables = await client.query<{ name: string }>(
        "select tablename as name from pg_tables where schemaname = $1 and tablename not like 'kysely_migration%' order by tablename",
        [schema],
      );
      const references = await client.query<{ child: string; parent: string }>(
        `select c.relname as child, p.relname as parent from pg_constraint f
         join pg_class c on c.oid = f.conrelid join pg_class p on p.oid = f.confrelid join pg_namespace n on n.oid = f.connamespace
         where f.contype = 'f' and n.nspname = $1 and c.relname <> p.relname`,
        [schema],
      );
      const order = referencingFirst(
        tables.rows.map((r) => r.name),
        references.rows,
      );
      return { schema, empty: order.map((table) => `delete from ${schema}."${table}";`).join("\n") };
    } finally {
      await client.end().catch(() => undefined);
    }
  })();
  return shared;
}

/** Tables ordered so that each comes before every table it references. */
function referencingFirst(tables: string[], references: Array<{ child: string; parent: string }>): string[] {
  const order: string[] = [];
  const placed = new Set<string>();
  const place = (table: string, path: Set<string>) => {
    if (placed.has(table) || path.has(table)) return;
    path.add(table);
    for (const { child } of references.filter((r) => r.parent === table)) place(child, path);
    placed.add(table);
    order.push(table);
  };
  for (const table of tables) place(table, new Set());
  return order;
}

let dropRegistered = false;

/** Registered once, where the first forEachBackend is called (the file's root, or its suite): drops the shared schema at the end. */
function dropSharedSchemaAfterwards(): void {
  if (dropRegistered) return;
  dropRegistered = true;
  after(async () => {
    const made = shared;
    shared = undefined;
    dropRegistered = false;
    if (made) await admin(`drop schema ${(await made).schema} cascade`);
  });
}

/**
 * A database of its own on the test PostgreSQL, for a whole gateway process
 * (DATABASE_URL); undefined when PostgreSQL is unreachable and not required
 * (the test is then marked skipped).
 */
export async function postgresTestDatabase(t: TestContext): Promise<{ url: string; cleanup(): Promise<void> } | undefined> {
  if (!(await postgresOrSkip(t))) return undefined;
  const name = `flotilla_test_${randomBytes(6).toString("hex")}`;
  await admin(`create database ${name}`);
  const url = new URL(TEST_DATABASE_URL);
  url.pathname = `/${name}`;
  return { url: url.toString(), cleanup: () => admin(`drop database ${name} with (force)`) };
}

/** Whether PostgreSQL answers; when it does not, the test is skipped, or fails where the services are required. */
async function postgresOrSkip(t: TestContext): Promise<boolean> {
  if (await postgresReachable()) return true;
  const where = redacted(TEST_DATABASE_URL);
  if (REQUIRED) throw new Error(`PostgreSQL not reachable at ${where}, and FLOTILLA_REQUIRE_SERVICES=1 requires it`);
  t.skip(`PostgreSQL not reachable at ${where}: set FLOTILLA_TEST_DATABASE_URL`);
  return false;
}

let reachable: Promise<boolean> | undefined;

function postgresReachable(): Promise<boolean> {
  reachable ??= admin("select 1").then(
    () => true,
    () => false,
  );
  return reachable;
}

async function admin(statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL, connectionTimeoutMillis: 3000 });
  client.on("error", () => undefined);
  try {
    await client.connect();
    await client.query(statement);
  } finally {
    await client.end().catch(() => undefined);
  }
}

function redacted(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString();
  } catch {
    return "(unparsable FLOTILLA_TEST_DATABASE_URL)";
  }
}

/** Redis for tests: FLOTILLA_TEST_REDIS_URL, else the local default. */
export const TEST_REDIS_URL = process.env.FLOTILLA_TEST_REDIS_URL ?? "redis://127.0.0.1:6379";

let redisAnswers: Promise<boolean> | undefined;

/**
 * For a whole suite: false with a notice to print as its skip reason when Redis
 * does not answer; throws instead under FLOTILLA_REQUIRE_SERVICES=1.
 */
export async function redisSkipReason(): Promise<string | false> {
  redisAnswers ??= pingRedis(TEST_REDIS_URL);
  if (await redisAnswers) return false;
  if (REQUIRED) throw new Error(`Redis not reachable at ${redacted(TEST_REDIS_URL)}, and FLOTILLA_REQUIRE_SERVICES=1 requires it`);
  return `Redis not reachable at ${redacted(TEST_REDIS_URL)}: set FLOTILLA_TEST_REDIS_URL`;
}

/** Whether Redis answers PING; when it does not, the test is skipped with a notice, or fails under FLOTILLA_REQUIRE_SERVICES=1. */
export async function requireRedis(t: TestContext): Promise<boolean> {
  redisAnswers ??= pingRedis(TEST_REDIS_URL);
  if (await redisAnswers) return true;
  if (REQUIRED) throw new Error(`Redis not reachable at ${redacted(TEST_REDIS_URL)}, and FLOTILLA_REQUIRE_SERVICES=1 requires it`);
  t.skip(`Redis not reachable at ${redacted(TEST_REDIS_URL)}: set FLOTILLA_TEST_REDIS_URL`);
  return false;
}

/** Whether the Redis at `url` answers PING (within 3 s). */
export async function pingRedis(url: string): Promise<boolean> {
  const { Redis } = await import("ioredis");
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, connectTimeout: 3000, retryStrategy: () => null });
  redis.on("error", () => undefined);
  try {
    await redis.connect();
    return (await redis.ping()) === "PONG";
  } catch {
    return false;
  } finally {
    redis.disconnect();
  }
}

/** Removes every key under `prefix` from the Redis at `url` (a test's or a benchmark's leftovers). */
export async function removeRedisKeys(url: string, prefix: string): Promise<void> {
  const { Redis } = await import("ioredis");
  const redis = new Redis(url, { maxRetriesPerRequest: 1 });
  try {
    let cursor = "0";
    do {
      const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 1000);
      if (keys.length) await redis.del(...keys);
      cursor = next;
    } while (cursor !== "0");
  } finally {
    redis.disconnect();
  }
}

/** A fresh key prefix on the test Redis, and a way to remove every key under it. */
export function redisTestPrefix(): { prefix: string; cleanup(): Promise<void> } {
  const prefix = `flotilla-test:${randomBytes(6).toString("hex")}:`;
  return { prefix, cleanup: () => removeRedisKeys(TEST_REDIS_URL, prefix) };
}

/** The fixed clock the contract suite's `now`s count from on backends that take time from their caller. */
const FIXED_T0 = 1_700_000_000_000;

/**
 * Registers the test for each task backend: SQLite (on the calling thread and in the thread the gateway uses),
 * PostgreSQL, Redis and BullMQ (a fresh key prefix each, removed afterwards). The body gets the time its `now`s
 * count from: fixed, except on BullMQ, which takes time from the wall clock; there each call waits for its `now`.
 */
export function forEachTaskBackend(name: string, fn: (tasks: TaskRepo, t0: number) => Promise<void>): void {
  forEachBackend(name, (store) => fn(store.tasks, FIXED_T0));
  // What the gateway runs on SQLite: the same statements, in a thread of their own.
  test(`${name} [sqlite thread]`, async () => {
    const backend = sqliteBackend();
    const store = await backend.open();
    const tasks = taskRepoInThread({ dataDir: backend.dataDir });
    try {
      await fn(tasks, FIXED_T0);
    } finally {
      await tasks.close();
      await store.close();
      await backend.cleanup();
    }
  });
  for (const label of ["redis", "bullmq"] as const) {
    test(`${name} [${label}]`, async (t) => {
      if (!(await requireRedis(t))) return;
      const { prefix, cleanup } = redisTestPrefix();
      // BullMQ is loaded by the cases that use it: every suite that imports these helpers would pay for it.
      const open = label === "redis" ? redisTaskRepo : (await import("./bullmq-task-repo.js")).bullmqTaskRepo;
      const tasks = open(TEST_REDIS_URL, prefix);
      try {
        if (label === "redis") await fn(tasks, FIXED_T0);
        else {
          const t0 = Date.now() + 100;
          await fn(onWallClock(tasks), t0);
        }
      } finally {
        await tasks.close();
        await cleanup();
      }
    });
  }
}

/** Where each TaskRepo call takes its `now`. */
const NOW_AT: Partial<Record<keyof TaskRepo, number>> = {
  claim: 2, claimUpTo: 2, heartbeat: 3, finish: 3, failAttempt: 4, expireLeases: 0, cancel: 1, counts: 1, setPaused: 2, registerWorker: 2, touchWorker: 1,
};

/**
 * How long after its `now` a wall-clock call is made. BullMQ counts a retry's delay from its own
 * Date.now(), a little after the one the delay was worked out from, so a retry is due a few ms
 * after the time asked for; the suite's "not yet" checks are 50 ms or more before a due time.
 */
const WALL_CLOCK_SLACK_MS = 20;

/** A backend on the wall clock, called as the suite calls the others: each call waits until its `now` has come. */
function onWallClock(tasks: TaskRepo): TaskRepo {
  const wrapped = {} as Record<string, unknown>;
  for (const [name, method] of Object.entries(tasks) as Array<[keyof TaskRepo, (...args: unknown[]) => Promise<unknown>]>) {
    const at = NOW_AT[name];
    wrapped[name] = async (...args: unknown[]) => {
      const wait = at === undefined ? 0 : (args[at] as number) + WALL_CLOCK_SLACK_MS - Date.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      return method(...args);
    };
  }
  return wrapped as unknown as TaskRepo;
}

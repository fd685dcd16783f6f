import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestContext } from "node:test";
import pg from "pg";
import { openStore, type Store } from "./index.js";

export const TEST_DATABASE_URL = process.env.FLOTILLA_TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const REQUIRED = process.env.FLOTILLA_REQUIRE_SERVICES === "1";

let reachable: Promise<boolean> | undefined;

function postgresReachable(): Promise<boolean> {
  reachable ??= (async () => {
    const client = new pg.Client({ connectionString: TEST_DATABASE_URL, connectionTimeoutMillis: 2000 });
    try {
      await client.connect();
      await client.query("select 1");
      return true;
    } catch {
      return false;
    } finally {
      await client.end().catch(() => undefined);
    }
  })();
  return reachable;
}

/** A store on a fresh SQLite file or a fresh PostgreSQL schema, removed afterwards. */
export interface Backend {
  name: "sqlite" | "postgres";
  open(): Promise<Store>;
  cleanup(): Promise<void>;
}

async function sqliteBackend(): Promise<Backend> {
  const dir = mkdtempSync(join(tmpdir(), "flotilla-store-"));
  return { name: "sqlite", open: () => openStore({ dataDir: dir }), cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
}

async function postgresBackend(): Promise<Backend> {
  const schema = `flotilla_test_${randomBytes(6).toString("hex")}`;
  const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await admin.connect();
  await admin.query(`create schema ${schema}`);
  await admin.end();
  return {
    name: "postgres",
    open: () => openStore({ dataDir: "", databaseUrl: TEST_DATABASE_URL, schema }),
    async cleanup() {
      const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
      await client.connect();
      await client.query(`drop schema ${schema} cascade`);
      await client.end();
    },
  };
}

/**
 * Runs `fn` once per backend as a subtest. PostgreSQL skips with a notice when
 * it is not reachable, unless FLOTILLA_REQUIRE_SERVICES=1 (CI), where it fails.
 */
export async function forEachBackend(t: TestContext, fn: (backend: Backend, t: TestContext) => Promise<void>): Promise<void> {
  await t.test("sqlite", async (st) => {
    const backend = await sqliteBackend();
    try {
      await fn(backend, st);
    } finally {
      await backend.cleanup();
    }
  });
  await t.test("postgres", async (st) => {
    if (!(await postgresReachable())) {
      if (REQUIRED) throw new Error(`PostgreSQL is required (FLOTILLA_REQUIRE_SERVICES=1) but not reachable at ${TEST_DATABASE_URL}`);
      st.skip(`PostgreSQL not reachable at ${TEST_DATABASE_URL}: set FLOTILLA_TEST_DATABASE_URL to run these`);
      return;
    }
    const backend = await postgresBackend();
    try {
      await fn(backend, st);
    } finally {
      await backend.cleanup();
    }
  });
}

import { mkdirSync } from "node:fs";
import { join } from "node:path";
import SqliteDatabase from "better-sqlite3";
import { Kysely, Migrator, PostgresDialect, sql, SqliteDialect, type SqliteDialectConfig } from "kysely";
import pg from "pg";
import { migrationProvider } from "./migrations/index.js";
import type { Database } from "./schema.js";

export type Dialect = "sqlite" | "postgres";

export interface StoreOptions {
  /** Created if missing; holds flotilla.db when no databaseUrl is given. */
  dataDir: string;
  /** postgres://… selects PostgreSQL; absent, SQLite at <dataDir>/flotilla.db */
  databaseUrl?: string;
  /** PostgreSQL only: the (existing) schema to work in, set as the connections' search_path. */
  schema?: string;
}

const INT8_OID = 20;
const NUMERIC_OID = 1700;
const toNumber = (value: string) => Number(value);

/**
 * This pool's type parsers: int8 (our bigint columns, count(*)) and numeric
 * (sum() of a bigint) as JS numbers, as SQLite returns them. Millisecond
 * times and token counts stay far below 2^53. pg's global parsers are untouched.
 */
const pgTypes: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: "text" | "binary") => {
    if (oid === INT8_OID || oid === NUMERIC_OID) return toNumber;
    return pg.types.getTypeParser(oid, format as "text");
  }) as pg.CustomTypesConfig["getTypeParser"],
};

export function connect(options: StoreOptions): { db: Kysely<Database>; dialect: Dialect } {
  mkdirSync(options.dataDir, { recursive: true });
  if (options.databaseUrl) return { db: connectPostgres(options.databaseUrl, options.schema), dialect: "postgres" };
  const sqlite = new SqliteDatabase(join(options.dataDir, "flotilla.db"));
  sqlite.pragma("journal_mode = WAL");
  sqlite.pragma("synchronous = NORMAL");
  sqlite.pragma("busy_timeout = 5000");
  sqlite.pragma("foreign_keys = ON");
  return { db: new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(sqlite) }) }), dialect: "sqlite" };
}

const STATEMENT_CACHE_SIZE = 256;

/**
 * better-sqlite3 prepares a statement anew on every call, and SQLite parses and
 * plans it each time: a third of the time of a short query. The same SQL text
 * reuses one statement (the least recently used goes past 256). Kysely runs one
 * query at a time on this connection and never iterates a statement, so a
 * statement is never in use twice.
 */
function withStatementCache(sqlite: SqliteDatabase.Database): SqliteDialectConfig["database"] {
  const statements = new Map<string, SqliteDatabase.Statement>();
  return {
    close: () => sqlite.close(),
    prepare(sql: string) {
      let statement = statements.get(sql);
      if (statement) statements.delete(sql);
      else statement = sqlite.prepare(sql);
      statements.set(sql, statement);
      if (statements.size > STATEMENT_CACHE_SIZE) statements.delete(statements.keys().next().value as string);
      return statement;
    },
  };
}

function connectPostgres(connectionString: string, schema: string | undefined): Kysely<Database> {
  if (schema !== undefined && !/^[A-Za-z_][A-Za-z0-9_]*$/.test(schema)) throw new Error(`invalid PostgreSQL schema name: ${schema}`);
  const pool = new pg.Pool({
    connectionString,
    types: pgTypes,
    max: 10,
    application_name: "flotilla",
    ...(schema ? { options: `-c search_path=${schema}` } : {}),
  });
  // An idle connection that the server closes (restart, failover) is dropped by
  // the pool and replaced on next use; without a listener it would crash the process.
  pool.on("error", () => undefined);
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
}

/**
 * Applies every pending migration; several replicas may start at once (the migrator locks).
 * On PostgreSQL the migrator is told the schema its tables are in: left to itself it looks for
 * them in every schema, and another schema of the database holding Flotilla's tables would make
 * it skip creating its own (then fail on the missing lock table).
 */
export async function migrate(db: Kysely<Database>, dialect: Dialect): Promise<void> {
  const migrationTableSchema = dialect === "postgres" ? (await sql<{ schema: string }>`select current_schema() as schema`.execute(db)).rows[0]?.schema : undefined;
  const { error, results } = await new Migrator({ db, provider: migrationProvider, ...(migrationTableSchema ? { migrationTableSchema } : {}) }).migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === "Error")?.migrationName ?? "unknown";
    throw new Error(`database migration ${failed} failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
}

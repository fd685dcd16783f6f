import type { Kysely } from "kysely";
import { connect, migrate, type Dialect, type StoreOptions } from "./connect.js";
import { apiKeyRepo, auditRepo, serverRepo } from "./repos.js";
import type { Database } from "./schema.js";

export type { StoreOptions, Dialect } from "./connect.js";
export type { Database, ServerRow, ApiKeyRow, RequestRow, UsageRow } from "./schema.js";
export type { ServerInput, RequestQuery } from "./repos.js";

export interface Store {
  readonly dialect: Dialect;
  readonly db: Kysely<Database>;
  readonly servers: ReturnType<typeof serverRepo>;
  readonly apiKeys: ReturnType<typeof apiKeyRepo>;
  readonly audit: ReturnType<typeof auditRepo>;
  close(): Promise<void>;
}

/** Opens SQLite (default) or PostgreSQL and brings the schema up to date. */
export async function openStore(options: StoreOptions): Promise<Store> {
  const { db, dialect } = connect(options);
  try {
    await migrate(db);
  } catch (err) {
    await db.destroy();
    throw err;
  }
  return {
    dialect,
    db,
    servers: serverRepo(db),
    apiKeys: apiKeyRepo(db),
    audit: auditRepo(db),
    close: () => db.destroy(),
  };
}

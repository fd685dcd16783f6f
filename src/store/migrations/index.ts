import type { Migration, MigrationProvider } from "kysely";
import * as initial from "./001_initial.js";

/** Every migration, in order; names never change once released. */
const MIGRATIONS: Record<string, Migration> = {
  "001_initial": initial,
};

export const migrationProvider: MigrationProvider = {
  async getMigrations() {
    return MIGRATIONS;
  },
};

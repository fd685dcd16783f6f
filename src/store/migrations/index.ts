import type { Migration, MigrationProvider } from "kysely";
import * as initial from "./001_initial.js";
import * as accounts from "./002_accounts.js";
import * as tokens from "./003_tokens.js";
import * as events from "./004_events.js";
import * as tasks from "./005_tasks.js";
import * as taskClaims from "./006_task_claims.js";
import * as mcpTools from "./007_mcp_tools.js";
import * as webhooks from "./008_webhooks.js";
import * as responses from "./009_responses.js";
import * as backgroundResponses from "./010_background_responses.js";
import * as conversations from "./011_conversations.js";
import * as modelCatalogs from "./012_model_catalogs.js";
import * as media from "./013_media.js";
import * as requestRouting from "./014_request_routing.js";
import * as scheduledJobs from "./015_scheduled_jobs.js";
import * as notifications from "./016_notifications.js";
import * as requestRollups from "./017_request_rollups.js";

/** Every migration, in order; names never change once released. */
const MIGRATIONS: Record<string, Migration> = {
  "001_initial": initial,
  "002_accounts": accounts,
  "003_tokens": tokens,
  "004_events": events,
  "005_tasks": tasks,
  "006_task_claims": taskClaims,
  "007_mcp_tools": mcpTools,
  "008_webhooks": webhooks,
  "009_responses": responses,
  "010_background_responses": backgroundResponses,
  "011_conversations": conversations,
  "012_model_catalogs": modelCatalogs,
  "013_media": media,
  "014_request_routing": requestRouting,
  "015_scheduled_jobs": scheduledJobs,
  "016_notifications": notifications,
  "017_request_rollups": requestRollups,
};

export const migrationProvider: MigrationProvider = {
  async getMigrations() {
    return MIGRATIONS;
  },
};

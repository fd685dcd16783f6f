import type { Kysely } from "kysely";
import { type ApiKeyRepo, apiKeyRepo } from "./api-key-repo.js";
import { type AuditRepo, auditRepo } from "./audit-repo.js";
import { connect, migrate, type Dialect, type StoreOptions } from "./connect.js";
import type { Database } from "./schema.js";
import { type EventRepo, eventRepo } from "./event-repo.js";
import { type McpKeyAccessRepo, mcpKeyAccessRepo, type McpToolRepo, mcpToolRepo } from "./mcp-tool-repo.js";
import { type SecretRepo, secretRepo } from "./secret-repo.js";
import { type ServerRepo, serverRepo } from "./server-repo.js";
import { type SettingRepo, settingRepo } from "./setting-repo.js";
import { type TaskRepo, taskRepo } from "./task-repo.js";
import { type TransferRepo, transferRepo } from "./transfer-repo.js";
import { type WebhookRepo, webhookRepo } from "./webhook-repo.js";
import { type ResponseRepo, responseRepo } from "./response-repo.js";
import { type MediaRepo, mediaRepo } from "./media-repo.js";
import { type ConversationRepo, conversationRepo } from "./conversation-repo.js";
import { type ModelCatalogRepo, modelCatalogRepo } from "./model-catalog-repo.js";
import { type ShareRepo, shareRepo } from "./share-repo.js";
import { type ProjectRepo, projectRepo } from "./project-repo.js";
import { type ScheduledJobRepo, scheduledJobRepo } from "./scheduled-job-repo.js";
import { type NotificationRepo, notificationRepo } from "./notification-repo.js";
import { sessionRepo, userRepo, type SessionRepo, type UserRepo } from "./user-repo.js";

export type { StoreOptions, Dialect } from "./connect.js";
export type { Database, ServerRow, ApiKeyRow, RequestRow, RouteRule, UsageRow, ServerKind, ServerSource, KeyRole, Surface, UserRow, UserRole, SessionRow, SessionKind, UserIdentityRow, EventRow, EventKind, SystemSampleRow, TransferRow, TransferStatus, TransferSource, TaskRow, TaskState, QueueWorkerRow, WebhookRow, WebhookDeliveryRow, DeliveryStatus, ResponseRow, ResponseEventRow, MediaRow, MediaStatus, ConversationRow, ConversationItemRow, ConversationShareRow, ProjectRow, ModelCatalogRow, ProviderModelRow, ScheduledJobRow, ScheduledRunRow, NotificationSubscriptionRow, NotificationSendRow } from "./schema.js";
export type { ServerRepo, ServerInput } from "./server-repo.js";
export type { ApiKeyRepo } from "./api-key-repo.js";
export type { SecretRepo } from "./secret-repo.js";
export type { EventRepo, EventQuery } from "./event-repo.js";
export type { SettingRepo } from "./setting-repo.js";
export type { TransferRepo, TransferProgress } from "./transfer-repo.js";
export type { TaskRepo, TaskEnd, QueueCounts } from "./task-repo.js";
export { bullmqKeyPrefix } from "./bullmq-jobs.js";
export { redisTaskRepo, type RedisTaskRepo } from "./redis-task-repo.js";
export { taskRepoInThread, type TaskThread } from "./task-thread.js";
export type { UserRepo, SessionRepo, UserUpdate } from "./user-repo.js";
export type { AuditRepo, RequestQuery, UsageQuery } from "./audit-repo.js";
export type { AnalyticsBucket, AuditStats, NodeModelCounts, NodeModelPercentiles, TimedColumn, UsageDimension, UsageGroup } from "./audit-stats.js";
export type { WebhookChange, WebhookRepo } from "./webhook-repo.js";
export type { ResponseChange, ResponseRepo } from "./response-repo.js";
export type { MediaReady, MediaRepo } from "./media-repo.js";
export type { ModelCatalogRepo, CatalogWrite, ProviderModelWrite, DisabledModels } from "./model-catalog-repo.js";
export { MAIN_BRANCH, type ConversationChange, type ConversationQuery, type ConversationRepo, type Fork, type ItemQuery, type NewItemRow } from "./conversation-repo.js";
export type { ShareRepo } from "./share-repo.js";
export type { ProjectChange, ProjectQuery, ProjectRepo } from "./project-repo.js";
export type { ScheduledJobChange, ScheduledJobRepo, ScheduledRunOutcome } from "./scheduled-job-repo.js";
export type { NotificationRepo } from "./notification-repo.js";
export type { McpKeyAccess, McpKeyAccessRepo, McpToolChange, McpToolRepo, McpToolSettings } from "./mcp-tool-repo.js";

/** The storage contract: every backend passes the same conformance suite (store.test.ts). */
export interface Store {
  readonly dialect: Dialect;
  readonly db: Kysely<Database>;
  readonly servers: ServerRepo;
  readonly apiKeys: ApiKeyRepo;
  readonly audit: AuditRepo;
  readonly users: UserRepo;
  readonly sessions: SessionRepo;
  readonly secrets: SecretRepo;
  readonly events: EventRepo;
  readonly settings: SettingRepo;
  readonly transfers: TransferRepo;
  readonly tasks: TaskRepo;
  readonly mcpTools: McpToolRepo;
  readonly mcpKeyAccess: McpKeyAccessRepo;
  readonly webhooks: WebhookRepo;
  readonly responses: ResponseRepo;
  readonly media: MediaRepo;
  readonly conversations: ConversationRepo;
  readonly modelCatalogs: ModelCatalogRepo;
  readonly shares: ShareRepo;
  readonly projects: ProjectRepo;
  readonly scheduledJobs: ScheduledJobRepo;
  readonly notifications: NotificationRepo;
  /** Closes the database; calling it again does nothing more. */
  close(): Promise<void>;
}

/** Opens SQLite (default) or PostgreSQL (databaseUrl), creating the data dir, and brings the schema up to date. */
export async function openStore(options: StoreOptions): Promise<Store> {
  const { db, dialect } = connect(options);
  try {
    await migrate(db, dialect);
  } catch (err) {
    await db.destroy();
    throw err;
  }
  let closed: Promise<void> | undefined;
  return {
    dialect,
    db,
    servers: serverRepo(db),
    apiKeys: apiKeyRepo(db),
    audit: auditRepo(db, dialect),
    users: userRepo(db, dialect),
    sessions: sessionRepo(db),
    secrets: secretRepo(db),
    events: eventRepo(db),
    settings: settingRepo(db),
    transfers: transferRepo(db),
    tasks: taskRepo(db, dialect),
    mcpTools: mcpToolRepo(db),
    mcpKeyAccess: mcpKeyAccessRepo(db),
    webhooks: webhookRepo(db),
    responses: responseRepo(db),
    media: mediaRepo(db),
    conversations: conversationRepo(db),
    modelCatalogs: modelCatalogRepo(db),
    shares: shareRepo(db),
    projects: projectRepo(db),
    scheduledJobs: scheduledJobRepo(db),
    notifications: notificationRepo(db),
    close: () => (closed ??= db.destroy()),
  };
}
export { openAuditSink, type AuditSink, type AuditWork } from "./audit-sink.js";

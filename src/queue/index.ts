export { Queues, PermanentTaskError, type TaskRunner, type NewTask } from "./service.js";
export { QueueConfigs } from "./configs.js";
export { MAX_TASK_TIMEOUT_SECS, QueueSpec } from "./spec.js";
export { inferenceRunner, taskRequest } from "./inference.js";
export { registerQueueRoutes, taskView } from "./routes.js";
export { sendWebhooks } from "./webhooks.js";
export { registerWorkerQueueRoutes } from "./worker-routes.js";
export { openTaskBackend, taskBackendOf, warnOfTasksLeftInDatabase, type TaskBackend } from "./backend.js";

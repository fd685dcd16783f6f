export { WebhookDispatcher } from "./dispatcher.js";
export { registerWebhookRoutes } from "./routes.js";
export { sendTaskEvents } from "./task-events.js";
export { sealPlainSigningSecrets } from "./signing.js";

/**
 * Scheduled jobs (seed 004): jobs on a cron that queue tasks or call a webhook,
 * their timeline with conflicts, open slots, and jobs discovered from Docker
 * containers' labels. The scheduler fires each run once across replicas.
 * Notifications (seed 004): server events told to their subscribers on Telegram,
 * a webhook, or a channel a plugin adds (`Notifier.addChannel`).
 */
export { ScheduledJobs, type JobsDeps } from "./jobs.js";
export { registerScheduleRoutes } from "./routes.js";
export { Scheduler, type SchedulerOptions } from "./scheduler.js";
export { jobActions, type ActionRunner } from "./actions.js";
export { Discovery, LABELS as DISCOVERY_LABELS } from "./discovery.js";
export { type NotificationChannel, type ServerNotice } from "./channel.js";
export { Notifier, NOTIFICATION_EVENTS, type NotifierOptions } from "./notifier.js";
export { referenceProbe, TelegramChannel, webhookChannel } from "./notify-channels.js";
export { TelegramSettings } from "./notify-settings.js";
export { registerNotificationRoutes, type NotificationRoutesDeps } from "./notify-routes.js";

/**
 * Scheduled jobs (seed 004): jobs on a cron that queue tasks or call a webhook,
 * their timeline with conflicts, open slots, and jobs discovered from Docker
 * containers' labels. The scheduler fires each run once across replicas.
 */
export { ScheduledJobs, type JobsDeps } from "./jobs.js";
export { registerScheduleRoutes } from "./routes.js";
export { Scheduler, type SchedulerOptions } from "./scheduler.js";
export { jobActions, type ActionRunner } from "./actions.js";
export { Discovery, LABELS as DISCOVERY_LABELS } from "./discovery.js";

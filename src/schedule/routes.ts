import { Type, type Static } from "@sinclair/typebox";
import type { FastifyInstance } from "fastify";
import { bodyMayBeOmitted } from "../kernel/index.js";
import { Discovery } from "./discovery.js";
import { jobView, type ScheduledJobs } from "./jobs.js";
import { suggestions, timeline } from "./plan.js";
import { DiscoverView, ImportBody, ImportView, JobBody, JobPatch, JobView, SuggestionsQuery, SuggestionsView, TimelineQuery, TimelineView } from "./schemas.js";

const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });

/** Seed 004's scheduled jobs: CRUD, the timeline with its conflicts, open slots, and jobs found on Docker. Operators only. */
export function registerScheduleRoutes(app: FastifyInstance, jobs: ScheduledJobs, dockerHost: string): void {
  const discovery = new Discovery(dockerHost, jobs);
  const tags = ["scheduled jobs"];
  const config = { auth: "admin" as const };
  const view = (row: Parameters<typeof jobView>[0]) => jobView(row, jobs.now());

  app.get("/api/scheduled-jobs", { schema: { summary: "Every scheduled job, with its next and last run", tags, response: { 200: Type.Object({ jobs: Type.Array(JobView) }) } }, config }, async function listScheduledJobs() {
    return { jobs: (await jobs.list()).map(view) };
  });

  app.post("/api/scheduled-jobs", { schema: { summary: "Schedule a job", tags, body: JobBody, response: { 201: JobView } }, config }, async function createScheduledJob(req, reply) {
    return reply.code(201).send(view(await jobs.create(req.body as Static<typeof JobBody>)));
  });

  app.put("/api/scheduled-jobs/:id", { schema: { summary: "Change a scheduled job (the fields given)", tags, params: IdParams, body: JobPatch, response: { 200: JobView } }, config }, async function updateScheduledJob(req) {
    return view(await jobs.update((req.params as Static<typeof IdParams>).id, req.body as Static<typeof JobPatch>));
  });

  app.delete("/api/scheduled-jobs/:id", { schema: { summary: "Delete a scheduled job", tags, params: IdParams }, config }, async function deleteScheduledJob(req, reply) {
    await jobs.remove((req.params as Static<typeof IdParams>).id);
    return reply.code(204).send();
  });

  app.get(
    "/api/scheduled-jobs/timeline",
    { schema: { summary: "Upcoming runs of the enabled jobs, each with the runs it collides with (same model, or a node fuller than it takes)", tags, querystring: TimelineQuery, response: { 200: TimelineView } }, config },
    async function scheduledJobsTimeline(req) {
      return timeline(jobs, (req.query as Static<typeof TimelineQuery>).hours);
    },
  );

  app.get(
    "/api/scheduled-jobs/suggestions",
    { schema: { summary: "Daily times where a job of the model and duration would collide with nothing", tags, querystring: SuggestionsQuery, response: { 200: SuggestionsView } }, config },
    async function scheduledJobsSuggestions(req) {
      return suggestions(jobs, req.query as Static<typeof SuggestionsQuery>);
    },
  );

  app.get(
    "/api/scheduled-jobs/discover",
    { schema: { summary: "Jobs declared by Docker containers' labels (flotilla.schedule.*)", tags, response: { 200: DiscoverView } }, config },
    async function discoverScheduledJobs() {
      const { found, reason } = await discovery.discover();
      return { dockerHost, jobs: found.map(({ imported, ...d }) => ({ ...d, importedAs: imported?.id ?? null })), reason };
    },
  );

  app.post(
    "/api/scheduled-jobs/discover",
    { schema: { summary: "Import the jobs Docker containers' labels declare (each container once)", tags, body: ImportBody, response: { 200: ImportView } }, preValidation: bodyMayBeOmitted, config },
    async function importScheduledJobs(req) {
      const result = await discovery.import((req.body as Static<typeof ImportBody>).containers);
      return { ...result, imported: result.imported.map(view) };
    },
  );
}

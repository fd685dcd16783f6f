import { Type, type Static } from "@sinclair/typebox";
import type { FastifyInstance } from "fastify";
import { FlotillaError, unixSeconds } from "../kernel/index.js";
import type { ProjectChange, ProjectRow, Store } from "../store/index.js";
import { conversationPage, myProject, ownerFor, pageOf } from "./access.js";
import { orderedId } from "./ids.js";
import { ConversationList, ConversationListQuery, Deleted, Limit, listOf, Order } from "./schema.js";

const tags = ["projects"];
const auth = { auth: "inference" as const };
const Name = Type.String({ minLength: 1, maxLength: 1000 });
const Instruction = Type.Union([Type.String({ maxLength: 100_000 }), Type.Null()]);
const NewProject = Type.Object(
  { name: Name, instruction: Type.Optional(Instruction), favorite: Type.Optional(Type.Boolean()), is_favorite: Type.Optional(Type.Boolean()) },
  { additionalProperties: true },
);
const ProjectPatch = Type.Object(
  {
    name: Type.Optional(Name),
    instruction: Type.Optional(Instruction),
    archived: Type.Optional(Type.Boolean()),
    is_archived: Type.Optional(Type.Boolean()),
    favorite: Type.Optional(Type.Boolean()),
    is_favorite: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: true },
);
type ProjectPatch = Static<typeof ProjectPatch>;
const ProjectView = Type.Object({
  id: Type.String(),
  object: Type.Literal("project"),
  name: Type.String(),
  instruction: Type.Union([Type.String(), Type.Null()], { description: "Sent as the system message of chats in the project's conversations" }),
  favorite: Type.Boolean(),
  is_favorite: Type.Boolean(),
  is_archived: Type.Boolean(),
  archived_at: Type.Union([Type.Integer(), Type.Null()]),
  created_at: Type.Integer(),
  updated_at: Type.Integer(),
});
const ProjectParams = Type.Object({ project_id: Type.String({ minLength: 1, maxLength: 128 }) });
type ProjectParams = Static<typeof ProjectParams>;
const ProjectListQuery = Type.Object({ limit: Limit, after: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })), order: Order });

/** A project as Jan's handler answers it, with the is_* names its web client reads. */
function projectView(row: ProjectRow): Static<typeof ProjectView> {
  return {
    id: row.id,
    object: "project",
    name: row.name,
    instruction: row.instruction,
    favorite: row.favorite === 1,
    is_favorite: row.favorite === 1,
    is_archived: row.archived_at !== null,
    archived_at: row.archived_at === null ? null : unixSeconds(row.archived_at),
    created_at: unixSeconds(row.created_at),
    updated_at: unixSeconds(row.updated_at),
  };
}

function projectChange(body: ProjectPatch, row: ProjectRow, now: number): ProjectChange {
  const favorite = body.is_favorite ?? body.favorite;
  const archived = body.is_archived ?? body.archived;
  return {
    ...(body.name !== undefined ? { name: body.name } : {}),
    ...(body.instruction !== undefined ? { instruction: body.instruction } : {}),
    ...(favorite !== undefined ? { favorite: favorite ? 1 : 0 } : {}),
    ...(archived !== undefined ? { archived_at: archived ? (row.archived_at ?? now) : null } : {}),
  };
}

/** Jan's projects: each caller's groups of conversations, with an instruction for their chats; deleting one is a soft delete. */
export function registerProjectRoutes(app: FastifyInstance, store: Store): void {
  app.get(
    "/v1/projects",
    { schema: { summary: "The caller's projects, newest first, a page at a time", tags, querystring: ProjectListQuery, response: { 200: listOf(ProjectView, true) } }, config: auth },
    async function listProjects(req) {
      const query = req.query as Static<typeof ProjectListQuery>;
      const owner = ownerFor(req);
      const after = query.after === undefined ? undefined : await store.projects.get(owner, query.after);
      if (query.after !== undefined && !after) throw new FlotillaError("invalid_request", `no project "${query.after}" to list after`, { param: "after" });
      const rows = await store.projects.list(owner, { limit: query.limit + 1, order: query.order, after });
      return { ...pageOf(rows, query.limit, projectView), total: await store.projects.count(owner) };
    },
  );
  app.post("/v1/projects", { schema: { summary: "Create a project", tags, body: NewProject, response: { 201: ProjectView } }, config: auth }, async function createProject(req, reply) {
    const body = req.body as Static<typeof NewProject>;
    const now = Date.now();
    const row: ProjectRow = { id: orderedId("proj", now), owner: ownerFor(req), name: body.name, instruction: body.instruction ?? null, favorite: (body.is_favorite ?? body.favorite) ? 1 : 0, archived_at: null, deleted_at: null, created_at: now, updated_at: now };
    await store.projects.insert(row);
    return reply.code(201).send(projectView(row));
  });
  app.get("/v1/projects/:project_id", { schema: { summary: "A project", tags, params: ProjectParams, response: { 200: ProjectView } }, config: auth }, async function getProject(req) {
    return projectView(await myProject(store, req, (req.params as ProjectParams).project_id, "project_id"));
  });
  app.patch(
    "/v1/projects/:project_id",
    { schema: { summary: "Change a project's name, instruction, favorite or archived state", tags, params: ProjectParams, body: ProjectPatch, response: { 200: ProjectView } }, config: auth },
    async function updateProject(req) {
      const row = await myProject(store, req, (req.params as ProjectParams).project_id, "project_id");
      const now = Date.now();
      return projectView((await store.projects.change(row.owner, row.id, projectChange(req.body as ProjectPatch, row, now), now)) ?? row);
    },
  );
  app.delete(
    "/v1/projects/:project_id",
    { schema: { summary: "Delete a project (softly): it is gone from lists and reads; its conversations stay, in no project", tags, params: ProjectParams, response: { 200: Deleted("project") } }, config: auth },
    async function deleteProject(req) {
      const row = await myProject(store, req, (req.params as ProjectParams).project_id, "project_id");
      await store.projects.remove(row.owner, row.id, Date.now());
      return { id: row.id, object: "project" as const, deleted: true };
    },
  );
  app.get(
    "/v1/projects/:project_id/conversations",
    { schema: { summary: "The conversations of a project, newest first, a page at a time", tags, params: ProjectParams, querystring: Type.Omit(ConversationListQuery, ["project_id"]), response: { 200: ConversationList } }, config: auth },
    async function listProjectConversations(req) {
      const project = await myProject(store, req, (req.params as ProjectParams).project_id, "project_id");
      return conversationPage(store, project.owner, req.query as Omit<ConversationListQuery, "project_id">, project.id);
    },
  );
}

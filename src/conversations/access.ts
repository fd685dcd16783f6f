import type { FastifyRequest } from "fastify";
import { FlotillaError, ownerOf, unixSeconds } from "../kernel/index.js";
import type { ConversationRow, Store } from "../store/index.js";
import type { ConversationListQuery, ConversationView, ItemView } from "./schema.js";

/** Whose a request's conversations are: its user or key; with the open proxy, callers without one share "anonymous". Admins see only their own. */
export const ownerFor = (req: FastifyRequest) => ownerOf(req.principal) ?? "anonymous";

export async function myConversation(store: Pick<Store, "conversations">, req: FastifyRequest, id: string): Promise<ConversationRow> {
  const row = await store.conversations.get(ownerFor(req), id);
  if (!row) throw new FlotillaError("not_found", `no conversation with id "${id}"`, { param: "conv_id" });
  return row;
}

/** A project the caller has (not deleted), or a 404 naming `param`. */
export async function myProject(store: Pick<Store, "projects">, req: FastifyRequest, id: string, param: string) {
  const row = await store.projects.get(ownerFor(req), id);
  if (!row) throw new FlotillaError("not_found", `no project with id "${id}"`, { param });
  return row;
}

export function conversationView(row: ConversationRow, items?: ItemView[]): ConversationView {
  return {
    id: row.id,
    object: "conversation",
    title: row.title,
    project_id: row.project_id,
    referrer: row.referrer,
    metadata: JSON.parse(row.metadata) as Record<string, string>,
    created_at: unixSeconds(row.created_at),
    updated_at: unixSeconds(row.updated_at),
    ...(items ? { items } : {}),
  };
}

/** A page as OpenAI lists it: `rows` fetched one over `limit`, so a row over says there are more. */
export function pageOf<R extends { id: string }, V>(rows: R[], limit: number, view: (row: R) => V) {
  const data = rows.slice(0, limit);
  return { object: "list" as const, data: data.map(view), first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null, has_more: rows.length > limit };
}

/** A page of the owner's conversations (of one project when given), with their total. */
export async function conversationPage(store: Pick<Store, "conversations">, owner: string, query: Omit<ConversationListQuery, "project_id">, projectId: string | undefined) {
  const after = query.after === undefined ? undefined : await store.conversations.get(owner, query.after);
  if (query.after !== undefined && !after) throw new FlotillaError("invalid_request", `no conversation "${query.after}" to list after`, { param: "after" });
  const filter = { projectId, referrer: query.referrer };
  const rows = await store.conversations.list(owner, { ...filter, limit: query.limit + 1, order: query.order, after });
  return { ...pageOf(rows, query.limit, (row) => conversationView(row)), total: await store.conversations.count(owner, filter) };
}

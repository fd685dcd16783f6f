import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import OpenAI from "openai";
import { startFlotilla, userKey, type Flotilla } from "./harness.js";

interface Item {
  id: string;
  type: string;
  role?: string;
  content?: Array<{ type: string; text?: string }>;
  call_id?: string;
}
interface Page<T> {
  data: T[];
  first_id: string | null;
  last_id: string | null;
  has_more: boolean;
  total?: number;
}
interface Conversation {
  id: string;
  object: string;
  title: string | null;
  project_id: string | null;
  metadata: Record<string, string>;
  items?: Item[];
}
interface Share {
  id: string;
  slug: string;
  share_url: string;
}

const texts = (items: Item[]) => items.map((i) => i.content?.[0]?.text ?? i.type);

describe("conversations, items, shares and projects over HTTP (seed 002)", () => {
  let gw: Flotilla;
  let alice: string;
  let bob: string;

  before(async () => {
    gw = await startFlotilla();
    [alice, bob] = await Promise.all([userKey(gw, "alice"), userKey(gw, "bob")]);
  });
  after(() => gw?.stop());

  const call = async <T = Record<string, unknown>>(key: string | undefined, method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> => {
    const headers: Record<string, string> = key ? { authorization: `Bearer ${key}` } : {};
    if (body !== undefined) headers["content-type"] = "application/json";
    const res = await fetch(gw.url + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    return { status: res.status, body: (await res.json()) as T };
  };
  const as = (key: string) => ({
    get: <T>(path: string) => call<T>(key, "GET", path),
    post: <T>(path: string, body: unknown = {}) => call<T>(key, "POST", path, body),
    put: <T>(path: string, body: unknown) => call<T>(key, "PUT", path, body),
    patch: <T>(path: string, body: unknown) => call<T>(key, "PATCH", path, body),
    del: <T>(path: string) => call<T>(key, "DELETE", path),
  });
  const say = (role: string, text: string) => ({ type: "message", role, content: [{ type: role === "assistant" ? "output_text" : "input_text", text }] });

  test("the openai client creates a conversation, adds items and pages through them by cursor", async () => {
    const client = new OpenAI({ apiKey: alice, baseURL: `${gw.url}/v1` });
    const conversation = await client.conversations.create({ metadata: { topic: "paging" }, items: [{ type: "message", role: "user", content: "first" }] });
    assert.match(conversation.id, /^conv_/);
    assert.deepEqual(conversation.metadata, { topic: "paging" });
    await client.conversations.items.create(conversation.id, { items: Array.from({ length: 4 }, (_, i) => ({ type: "message" as const, role: "user" as const, content: `m${i}` })) });
    const seen: string[] = [];
    for await (const item of client.conversations.items.list(conversation.id, { limit: 2, order: "asc" })) seen.push((item as unknown as Item).content?.[0]?.text ?? "");
    assert.deepEqual(seen, ["first", "m0", "m1", "m2", "m3"]);
    const newest = await client.conversations.items.list(conversation.id, { limit: 2 });
    assert.deepEqual(texts(newest.data as unknown as Item[]), ["m3", "m2"], "newest first by default");
    assert.equal((await client.conversations.retrieve(conversation.id)).id, conversation.id);
  });

  test("conversations list newest first, a page at a time after the last id, with Jan's total", async () => {
    const api = as(alice);
    const made: string[] = [];
    for (let i = 0; i < 3; i++) made.push((await api.post<Conversation>("/v1/conversations", { title: `list ${i}` })).body.id);
    const first = await api.get<Page<Conversation>>("/v1/conversations?limit=2");
    assert.equal(first.status, 200);
    assert.deepEqual(first.body.data.map((c) => c.id), [made[2], made[1]]);
    assert.equal(first.body.has_more, true);
    const second = await api.get<Page<Conversation>>(`/v1/conversations?limit=2&after=${first.body.last_id}`);
    assert.equal(second.body.data[0].id, made[0]);
    assert.equal(first.body.total, second.body.total);
    assert.equal((await api.get("/v1/conversations?after=conv_unknown")).status, 400);
  });

  test("an edit makes MAIN end at the edited message, the later items kept in the old MAIN's backup branch", async () => {
    const api = as(alice);
    const { body: conv } = await api.post<Conversation>("/v1/conversations", { title: "edit me", items: [say("user", "q1"), say("assistant", "a1"), say("user", "q2"), say("assistant", "a2")] });
    const [q1, a1, q2] = conv.items!;
    assert.equal((await api.put(`/v1/conversations/${conv.id}/items/${a1.id}/edit`, { content: "no" })).status, 400, "only a user message is edited");
    const edited = await api.put<{ branch: string; old_main_backup: string; user_item: Item; new_branch: { item_count: number } }>(`/v1/conversations/${conv.id}/items/${q2.id}/edit`, { content: "q2, better" });
    assert.equal(edited.status, 200);
    assert.equal(edited.body.branch, "MAIN");
    assert.equal(edited.body.new_branch.item_count, 3);
    assert.deepEqual(texts([edited.body.user_item]), ["q2, better"]);
    const main = await api.get<Conversation>(`/v1/conversations/${conv.id}`);
    assert.deepEqual(main.body.items!.map((i) => i.id), [q1.id, a1.id, edited.body.user_item.id], "earlier items keep their ids");
    const backup = await api.get<Page<Item>>(`/v1/conversations/${conv.id}/items?order=asc&branch=${edited.body.old_main_backup}`);
    assert.deepEqual(texts(backup.body.data), ["q1", "a1", "q2", "a2"]);
    assert.equal((await api.get<Item>(`/v1/conversations/${conv.id}/items/${q2.id}`)).body.id, q2.id, "the old item is still there, in the backup");
    // Jan's item delete: MAIN without that one item.
    const removed = await api.del<{ deleted: boolean; object: string }>(`/v1/conversations/${conv.id}/items/${a1.id}`);
    assert.deepEqual([removed.status, removed.body.deleted, removed.body.object], [200, true, "conversation"]);
    assert.deepEqual(texts((await api.get<Conversation>(`/v1/conversations/${conv.id}`)).body.items!), ["q1", "q2, better"]);
  });

  test("an item is found by its call_id", async () => {
    const api = as(alice);
    const { body: conv } = await api.post<Conversation>("/v1/conversations", {
      items: [say("user", "weather?"), { type: "function_call", call_id: "call_w", name: "weather", arguments: "{}" }, { type: "function_call_output", call_id: "call_w", output: "sunny" }],
    });
    const found = await api.get<Item>(`/v1/conversations/${conv.id}/items/by-call-id/call_w`);
    assert.deepEqual([found.status, found.body.type, found.body.call_id], [200, "function_call", "call_w"]);
    assert.equal((await api.get(`/v1/conversations/${conv.id}/items/by-call-id/call_none`)).status, 404);
    assert.equal((await api.post(`/v1/conversations/${conv.id}/items`, { items: [{ type: "function_call", name: "x" }] })).status, 400, "a function_call needs its call_id");
  });

  test("a share opens without credentials as the snapshot taken then, until it is revoked", async () => {
    const api = as(alice);
    const { body: conv } = await api.post<Conversation>("/v1/conversations", { title: "shared", items: [say("user", "hello"), say("assistant", "hi there")] });
    const shared = await api.post<Share>(`/v1/conversations/${conv.id}/share`, { scope: "conversation" });
    assert.equal(shared.status, 201);
    assert.match(shared.body.slug, /^[0-9A-Za-z]{22}$/);
    assert.equal(shared.body.share_url, `${gw.url}/v1/share/${shared.body.slug}`);
    const itemShare = await api.post<Share>(`/v1/conversations/${conv.id}/items/${conv.items![1].id}/share`, { include_context_messages: true });
    await api.put(`/v1/conversations/${conv.id}/items/${conv.items![0].id}/edit`, { content: "changed later" });
    await api.post(`/v1/conversations/${conv.id}/items`, { items: [say("user", "added later")] });
    const open = await call<{ object: string; title: string; snapshot: { items: Item[] } }>(undefined, "GET", `/v1/share/${shared.body.slug}`);
    assert.equal(open.status, 200);
    assert.equal(open.body.title, "shared");
    assert.deepEqual(texts(open.body.snapshot.items), ["hello", "hi there"], "later edits do not change it");
    assert.deepEqual(texts((await call<{ snapshot: { items: Item[] } }>(undefined, "GET", `/v1/share/${itemShare.body.id}`)).body.snapshot.items), ["hello", "hi there"], "by id too; the item with its question");
    const shares = await api.get<{ data: Array<{ id: string; view_count: number }> }>(`/v1/conversations/${conv.id}/shares`);
    assert.equal(shares.body.data.find((s) => s.id === shared.body.id)?.view_count, 1);
    assert.equal((await as(bob).del(`/v1/conversations/${conv.id}/share/${shared.body.id}`)).status, 404, "not another user's to revoke");
    assert.equal((await api.del(`/v1/conversations/${conv.id}/share/${shared.body.id}`)).status, 200);
    assert.equal((await call(undefined, "GET", `/v1/share/${shared.body.slug}`)).status, 404);
    assert.equal((await call(undefined, "GET", `/v1/share/${"A".repeat(22)}`)).status, 404);
  });

  test("projects: made, listed, changed, soft-deleted; their conversations listed, and kept after", async () => {
    const api = as(alice);
    const made = await api.post<{ id: string; name: string; instruction: string }>("/v1/projects", { name: "Research", instruction: "Be brief." });
    assert.equal(made.status, 201);
    const project = made.body.id;
    const inside = await api.post<Conversation>("/v1/conversations", { title: "in project", project_id: project });
    assert.equal(inside.body.project_id, project);
    assert.equal((await api.post("/v1/conversations", { project_id: "proj_nope" })).status, 404);
    const moved = await api.post<Conversation>("/v1/conversations", { title: "moved in" });
    assert.equal((await api.patch<Conversation>(`/v1/conversations/${moved.body.id}`, { project_id: project, title: "moved" })).body.project_id, project);
    const listed = await api.get<Page<Conversation>>(`/v1/projects/${project}/conversations`);
    assert.deepEqual(listed.body.data.map((c) => c.title), ["moved", "in project"]);
    assert.equal(listed.body.total, 2);
    const changed = await api.patch<{ name: string; is_archived: boolean; is_favorite: boolean }>(`/v1/projects/${project}`, { name: "Research 2", archived: true, is_favorite: true });
    assert.deepEqual([changed.body.name, changed.body.is_archived, changed.body.is_favorite], ["Research 2", true, true]);
    assert.ok((await api.get<Page<{ id: string }>>("/v1/projects")).body.data.some((p) => p.id === project));
    assert.equal((await as(bob).get(`/v1/projects/${project}`)).status, 404, "another user's project is not found");
    assert.equal((await api.del(`/v1/projects/${project}`)).status, 200);
    assert.equal((await api.get(`/v1/projects/${project}`)).status, 404);
    assert.ok(!(await api.get<Page<{ id: string }>>("/v1/projects")).body.data.some((p) => p.id === project));
    const kept = await api.get<Conversation>(`/v1/conversations/${inside.body.id}`);
    assert.deepEqual([kept.status, kept.body.project_id], [200, null], "its conversations stay, in no project");
  });

  test("another user gets a 404 for a conversation not theirs, and bulk delete deletes only the caller's", async () => {
    const { body: mine } = await as(alice).post<Conversation>("/v1/conversations", { title: "alice's", items: [say("user", "secret")] });
    const bobApi = as(bob);
    const item = mine.items![0].id;
    for (const [method, path, body] of [
      ["GET", `/v1/conversations/${mine.id}`],
      ["PATCH", `/v1/conversations/${mine.id}`, { title: "bob's now" }],
      ["GET", `/v1/conversations/${mine.id}/items`],
      ["POST", `/v1/conversations/${mine.id}/items`, { items: [say("user", "hi")] }],
      ["GET", `/v1/conversations/${mine.id}/items/${item}`],
      ["PUT", `/v1/conversations/${mine.id}/items/${item}/edit`, { content: "x" }],
      ["POST", `/v1/conversations/${mine.id}/share`, {}],
      ["DELETE", `/v1/conversations/${mine.id}`],
    ] as const) {
      const res = await call<{ error: { code: string; param: string } }>(bob, method, path, body);
      assert.deepEqual([res.status, res.body.error.code], [404, "not_found"], `${method} ${path}`);
    }
    assert.equal((await gw.admin(`/v1/conversations/${mine.id}`)).status, 404, "an admin does not see it either");
    const { body: his } = await bobApi.post<Conversation>("/v1/conversations", { title: "bob's" });
    const bulk = await bobApi.post<{ deleted_count: number }>("/v1/conversations/bulk-delete", { ids: [mine.id, his.id] });
    assert.equal(bulk.body.deleted_count, 1);
    assert.equal((await bobApi.get(`/v1/conversations/${his.id}`)).status, 404);
    const still = await as(alice).get<Conversation>(`/v1/conversations/${mine.id}`);
    assert.deepEqual([still.status, still.body.title, still.body.items!.length], [200, "alice's", 1]);
    assert.equal((await as(alice).del<{ deleted: boolean }>(`/v1/conversations/${mine.id}`)).body.deleted, true);
    assert.equal((await as(alice).get(`/v1/conversations/${mine.id}`)).status, 404);
  });
});

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import OpenAI from "openai";
import { startSim, type SimServer } from "../sim/index.js";
import { startFlotilla, userKey, type Flotilla } from "./harness.js";

interface Item {
  id: string;
  type: string;
  role?: string;
  model?: string;
  content?: Array<{ type: string; text?: string }>;
}
interface TurnMetadata {
  conversation_id: string;
  conversation_created: boolean;
  conversation_title: string | null;
  ask_item_id?: string | null;
  completion_item_id?: string | null;
}
type Sent = { model: string; messages: Array<{ role: string; content: unknown }> };

const ANSWER = ["Ahoy", " there", "."];
const answerText = ANSWER.join("");
const texts = (items: Item[]) => items.map((i) => `${i.role}: ${i.content?.[0]?.text ?? ""}`);

describe("chat completions in a stored conversation (Jan's conversation and store fields)", () => {
  let openaiServer: SimServer;
  let ollamaServer: SimServer;
  let gw: Flotilla;
  let alice: string;
  let bob: string;
  let client: OpenAI;

  before(async () => {
    // One server speaks OpenAI (the answer passes through), one Ollama (the answer is translated): the turn is kept either way.
    [openaiServer, ollamaServer] = await Promise.all([
      startSim({ kind: "openai", models: ["chat-openai"], tokens: ANSWER }),
      startSim({ kind: "ollama", models: ["chat-ollama:latest"], loaded: ["chat-ollama:latest"], tokens: ANSWER }),
    ]);
    gw = await startFlotilla({ servers: [`${openaiServer.url},openai`, `${ollamaServer.url},ollama`] });
    [alice, bob] = await Promise.all([userKey(gw, "alice"), userKey(gw, "bob")]);
    client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: alice });
  });
  after(async () => {
    await gw?.stop();
    await Promise.all([openaiServer?.close(), ollamaServer?.close()]);
  });

  const api = async <T>(key: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> => {
    const res = await fetch(gw.url + path, {
      method,
      headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as T };
  };
  const lastSent = (server: SimServer): Sent => server.requests.filter((r) => r.method === "POST").at(-1)?.body as Sent;
  const items = async (conversationId: string, branch?: string) =>
    (await api<{ data: Item[] }>(alice, "GET", `/v1/conversations/${conversationId}/items?order=asc${branch ? `&branch=${branch}` : ""}`)).body.data;

  let conversationId: string;

  test("a turn in a project's conversation sends the project's instruction first and keeps both messages", async () => {
    const project = await api<{ id: string }>(alice, "POST", "/v1/projects", { name: "Pirates", instruction: "Answer like a pirate." });
    assert.equal(project.status, 201);
    const created = await api<{ id: string }>(alice, "POST", "/v1/conversations", { project_id: project.body.id });
    conversationId = created.body.id;

    const answer = (await client.chat.completions.create({
      model: "chat-openai",
      messages: [{ role: "user", content: "Where is the treasure buried on the island?" }],
      conversation: conversationId,
    } as OpenAI.ChatCompletionCreateParamsNonStreaming)) as OpenAI.ChatCompletion & { metadata: TurnMetadata };
    assert.equal(answer.choices[0].message.content, answerText);
    const sent = lastSent(openaiServer);
    assert.deepEqual(sent.messages, [
      { role: "system", content: "Answer like a pirate." },
      { role: "user", content: "Where is the treasure buried on the island?" },
    ]);
    assert.equal("conversation" in sent, false, "the gateway's own fields are not sent upstream");
    assert.equal(answer.metadata.conversation_id, conversationId);
    assert.equal(answer.metadata.conversation_created, false);
    assert.equal(answer.metadata.conversation_title, "Where is the treasure buried on the island?");
    const kept = await items(conversationId);
    assert.deepEqual(texts(kept), ["user: Where is the treasure buried on the island?", `assistant: ${answerText}`]);
    assert.equal(answer.metadata.ask_item_id, kept[0].id);
    assert.equal(answer.metadata.completion_item_id, kept[1].id);
  });

  test("a streamed turn on another server sends the history, and Jan's metadata comes just before [DONE]", async () => {
    const stream = await client.chat.completions.create({
      model: "chat-ollama",
      messages: [{ role: "user", content: "And the map?" }],
      stream: true,
      conversation: { id: conversationId },
    } as OpenAI.ChatCompletionCreateParamsStreaming);
    let text = "";
    const chunks: Array<Record<string, unknown>> = [];
    for await (const chunk of stream) {
      chunks.push(chunk as unknown as Record<string, unknown>);
      text += chunk.choices[0]?.delta?.content ?? "";
    }
    assert.equal(text, answerText);
    const metadata = chunks.at(-1) as unknown as TurnMetadata & { object: string; choices: unknown[] };
    assert.equal(metadata.object, "chat.completion.metadata");
    assert.deepEqual(metadata.choices, []);
    assert.equal(metadata.conversation_id, conversationId);
    const sent = lastSent(ollamaServer);
    assert.deepEqual(
      sent.messages.map((m) => `${m.role}: ${String(m.content)}`),
      ["system: Answer like a pirate.", "user: Where is the treasure buried on the island?", `assistant: ${answerText}`, "user: And the map?"],
    );
    const kept = await items(conversationId);
    assert.equal(kept.length, 4);
    assert.equal(kept[3].id, metadata.completion_item_id);
    assert.equal(kept[3].model, "chat-ollama");
  });

  test("conversation {} starts one; store false keeps nothing; another user's conversation is a 404", async () => {
    const started = (await client.chat.completions.create({
      model: "chat-openai",
      messages: [{ role: "user", content: "Start a new one" }],
      conversation: {},
    } as OpenAI.ChatCompletionCreateParamsNonStreaming)) as OpenAI.ChatCompletion & { metadata: TurnMetadata };
    assert.equal(started.metadata.conversation_created, true);
    assert.equal((await items(started.metadata.conversation_id)).length, 2);

    const unkept = (await client.chat.completions.create({
      model: "chat-openai",
      messages: [{ role: "user", content: "Just asking" }],
      conversation: started.metadata.conversation_id,
      store: false,
    } as OpenAI.ChatCompletionCreateParamsNonStreaming)) as OpenAI.ChatCompletion & { metadata: TurnMetadata };
    assert.equal(unkept.metadata.completion_item_id, undefined);
    assert.equal(lastSent(openaiServer).messages.length, 3, "the stored turn is still sent as history");
    assert.equal((await items(started.metadata.conversation_id)).length, 2);

    const asBob = await fetch(`${gw.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${bob}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "chat-openai", messages: [{ role: "user", content: "peek" }], conversation: conversationId }),
    });
    assert.equal(asBob.status, 404);
    assert.equal(((await asBob.json()) as { error: { param: string } }).error.param, "conversation");
  });

  test("a first turn that fails leaves no empty conversation behind", async () => {
    const count = async () => (await api<{ total: number }>(bob, "GET", "/v1/conversations")).body.total;
    const before = await count();
    const failed = await api<{ error: { code: string } }>(bob, "POST", "/v1/chat/completions", {
      model: "no-server-has-this",
      messages: [{ role: "user", content: "hello?" }],
      conversation: {},
    });
    assert.equal(failed.status, 404);
    assert.equal(failed.body.error.code, "model_not_found");
    assert.equal(await count(), before);
  });

  test("regenerate answers the last user message again on a new MAIN, the old answer kept in the backup branch", async () => {
    const before = await items(conversationId);
    const oldAnswer = before[3];
    const calls = ollamaServer.requests.length;
    const regenerated = await api<{ branch: string; old_main_backup: string; user_item_id: string; completion_item_id: string; completion: OpenAI.ChatCompletion }>(
      alice,
      "POST",
      `/v1/conversations/${conversationId}/items/${oldAnswer.id}/regenerate`,
      {},
    );
    assert.equal(regenerated.status, 200);
    assert.equal(regenerated.body.branch, "MAIN");
    assert.equal(regenerated.body.user_item_id, before[2].id);
    assert.equal(regenerated.body.completion.choices[0].message.content, answerText);
    assert.ok(ollamaServer.requests.length > calls, "the model that gave the answer is asked again");
    const after = await items(conversationId);
    assert.deepEqual(after.slice(0, 3).map((i) => i.id), before.slice(0, 3).map((i) => i.id));
    assert.equal(after.length, 4);
    assert.notEqual(after[3].id, oldAnswer.id);
    assert.equal(after[3].id, regenerated.body.completion_item_id);
    const backup = await items(conversationId, regenerated.body.old_main_backup);
    assert.ok(backup.some((i) => i.id === oldAnswer.id));
  });

  test("a streamed regenerate sends chunks, then Jan's regenerate fields before [DONE]; bob cannot regenerate alice's", async () => {
    const current = await items(conversationId);
    const res = await fetch(`${gw.url}/v1/conversations/${conversationId}/items/${current[3].id}/regenerate`, {
      method: "POST",
      headers: { authorization: `Bearer ${alice}`, "content-type": "application/json" },
      body: JSON.stringify({ stream: true, model: "chat-openai" }),
    });
    assert.equal(res.status, 200);
    const events = (await res.text()).split("\n\n").filter(Boolean);
    assert.equal(events.at(-1), "data: [DONE]");
    const metadata = JSON.parse(events.at(-2)!.slice("data: ".length)) as { object: string; branch: string; completion_item_id: string };
    assert.equal(metadata.object, "chat.completion.metadata");
    assert.equal(metadata.branch, "MAIN");
    assert.equal((await items(conversationId)).at(-1)?.id, metadata.completion_item_id);
    assert.equal(lastSent(openaiServer).model, "chat-openai");

    const asBob = await api<unknown>(bob, "POST", `/v1/conversations/${conversationId}/items/${current[3].id}/regenerate`, {});
    assert.equal(asBob.status, 404);
  });
});

import assert from "node:assert/strict";
import { isFlotillaError } from "../kernel/index.js";
import { forEachBackend } from "../store/test-backends.js";
import { ChatHistory } from "./chat-history.js";

// A conversation read and written as chat completions messages, on SQLite and PostgreSQL.

const T0 = 1_700_000_000_000;
const blank = { title: null, project_id: null, referrer: null, metadata: "{}", next_position: 0, created_at: T0, updated_at: T0 };

forEachBackend("chat messages appended come back as the same chat messages, tool calls and images included", async (store) => {
  await store.conversations.insert({ id: "c", owner: "u1", ...blank }, []);
  const history = new ChatHistory(store);
  const items = await history.append("u1", "c", [
    { role: "user", content: [{ type: "text", text: "what is this?" }, { type: "image_url", image_url: { url: "jan_abc", detail: "low" } }] },
    { role: "assistant", content: null, tool_calls: [{ id: "call_1", type: "function", function: { name: "look", arguments: '{"q":1}' } }] },
    { role: "tool", tool_call_id: "call_1", content: "a cat" },
    { role: "assistant", content: "A cat.", status: "completed" },
  ]);
  assert.deepEqual(
    items.map((i) => [i.type, i.role ?? null]),
    [["message", "user"], ["function_call", null], ["function_call_output", null], ["message", "assistant"]],
    "an assistant message with only tool calls is its function_call items",
  );
  assert.deepEqual(items[0].content, [{ type: "input_text", text: "what is this?" }, { type: "input_image", image_url: "jan_abc", detail: "low" }]);
  assert.deepEqual(items[3].content, [{ type: "output_text", text: "A cat.", annotations: [] }]);
  const loaded = await history.load("u1", "c");
  assert.equal(loaded.instruction, undefined);
  assert.deepEqual(loaded.messages, [
    { role: "user", content: [{ type: "text", text: "what is this?" }, { type: "image_url", image_url: { url: "jan_abc", detail: "low" } }] },
    { role: "assistant", content: null, tool_calls: [{ id: "call_1", type: "function", function: { name: "look", arguments: '{"q":1}' } }] },
    { role: "tool", tool_call_id: "call_1", content: "a cat" },
    { role: "assistant", content: "A cat." },
  ]);
  assert.equal((await history.load("u1", "c", { upToItemId: items[1].id })).messages.length, 2, "up to and with the item named");
  assert.ok((await store.conversations.get("u1", "c"))!.updated_at > T0, "appending moves updated_at");
});

forEachBackend("a conversation's project instruction comes with its history until the project is deleted", async (store) => {
  await store.projects.insert({ id: "p", owner: "u1", name: "p", instruction: "Answer in French.", favorite: 0, archived_at: null, deleted_at: null, created_at: T0, updated_at: T0 });
  await store.conversations.insert({ id: "c", owner: "u1", ...blank, project_id: "p" }, []);
  const history = new ChatHistory(store);
  assert.equal((await history.load("u1", "c")).instruction, "Answer in French.");
  await store.projects.remove("u1", "p", T0 + 1);
  assert.equal((await history.load("u1", "c")).instruction, undefined);
});

forEachBackend("a regenerate's cut keeps MAIN up to the item and the rest in a backup; another owner's conversation is not found", async (store) => {
  await store.conversations.insert({ id: "c", owner: "u1", ...blank }, []);
  const history = new ChatHistory(store);
  const [question] = await history.append("u1", "c", [{ role: "user", content: "hi" }, { role: "assistant", content: "hello" }]);
  const cut = await history.dropAfter("u1", "c", question.id);
  assert.equal(cut.branch, "MAIN");
  assert.match(cut.old_main_backup, /^MAIN_\d{14}$/);
  assert.deepEqual((await history.load("u1", "c")).messages, [{ role: "user", content: "hi" }]);
  assert.equal((await store.conversations.allItems("c", cut.old_main_backup)).length, 2);
  for (const call of [() => history.load("u2", "c"), () => history.append("u2", "c", [{ role: "user", content: "x" }]), () => history.dropAfter("u2", "c", question.id)]) {
    await assert.rejects(call(), (err: unknown) => isFlotillaError(err) && err.code === "not_found" && err.param === "conversation");
  }
  await assert.rejects(history.load("u1", "c", { upToItemId: "msg_nope" }), (err: unknown) => isFlotillaError(err) && err.param === "item_id");
});

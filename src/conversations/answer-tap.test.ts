import assert from "node:assert/strict";
import { test } from "node:test";
import { ChatAnswerTap, type ChatAnswer } from "./answer-tap.js";

const chunk = (delta: Record<string, unknown>, finish: string | null = null) =>
  `data: ${JSON.stringify({ id: "chatcmpl-1", object: "chat.completion.chunk", model: "m", choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;

const noWarning = (err: unknown) => assert.fail(`a turn was not kept: ${String(err)}`);

test("a stream is read whatever its chunk boundaries; metadata goes out just before [DONE]", async () => {
  const seen: ChatAnswer[] = [];
  const tap = new ChatAnswerTap(
    true,
    async (answer) => {
      seen.push(structuredClone(answer));
      return { conversation_id: "conv_1", completion_item_id: "msg_2" };
    },
    noWarning,
  );
  const stream = chunk({ role: "assistant", content: "Hel" }) + chunk({ content: "lo" }) + chunk({}, "stop") + "data: [DONE]\n\n";
  let out = "";
  for (let i = 0; i < stream.length; i += 7) out += tap.push(Buffer.from(stream.slice(i, i + 7)));
  out += await tap.finish();
  assert.equal(seen.length, 1);
  assert.equal(seen[0].content, "Hello");
  assert.equal(seen[0].finishReason, "stop");
  assert.equal(seen[0].complete, true);
  const events = out.split("\n\n").filter(Boolean);
  assert.equal(events.at(-1), "data: [DONE]");
  assert.equal(events.filter((e) => e === "data: [DONE]").length, 1);
  const metadata = JSON.parse(events.at(-2)!.slice(6)) as Record<string, unknown>;
  assert.deepEqual(metadata, { object: "chat.completion.metadata", conversation_id: "conv_1", completion_item_id: "msg_2", choices: [] });
});

test("streamed tool calls are put together by index", async () => {
  let answer: ChatAnswer | undefined;
  const tap = new ChatAnswerTap(true, async (a) => ((answer = a), undefined), noWarning);
  tap.push(chunk({ tool_calls: [{ index: 0, id: "call_1", type: "function", function: { name: "get_weather", arguments: "" } }] }));
  tap.push(chunk({ tool_calls: [{ index: 0, function: { arguments: '{"city":' } }] }));
  tap.push(chunk({ tool_calls: [{ index: 0, function: { arguments: '"Paris"}' } }] }, "tool_calls"));
  const last = await tap.finish();
  assert.equal(last, "data: [DONE]\n\n");
  assert.deepEqual(answer?.toolCalls, [{ id: "call_1", type: "function", function: { name: "get_weather", arguments: '{"city":"Paris"}' } }]);
});

test("a stream cut before its finish is given as incomplete", async () => {
  let answer: ChatAnswer | undefined;
  const tap = new ChatAnswerTap(true, async (a) => ((answer = a), undefined), noWarning);
  tap.push(chunk({ content: "partial" }));
  await tap.finish();
  assert.equal(answer?.complete, false);
  assert.equal(answer?.content, "partial");
});

test("a whole answer gets Jan's metadata field, and still goes out when the turn cannot be kept", async () => {
  const body = JSON.stringify({ id: "chatcmpl-9", object: "chat.completion", model: "m", choices: [{ index: 0, message: { role: "assistant", content: "Hi" }, finish_reason: "stop" }] });
  const kept = new ChatAnswerTap(false, async (a) => ({ conversation_id: "conv_9", content_seen: a.content }), noWarning);
  assert.equal(kept.push(body), "");
  const out = JSON.parse(await kept.finish()) as { choices: unknown[]; metadata: Record<string, unknown> };
  assert.deepEqual(out.metadata, { conversation_id: "conv_9", content_seen: "Hi" });
  assert.equal(out.choices.length, 1);

  const warned: unknown[] = [];
  const failing = new ChatAnswerTap(
    false,
    async () => {
      throw new Error("database down");
    },
    (err) => warned.push(err),
  );
  failing.push(body);
  assert.deepEqual(JSON.parse(await failing.finish()), JSON.parse(body));
  assert.deepEqual(
    warned.map((err) => (err as Error).message),
    ["database down"],
    "the operator is told why the turn was not kept",
  );
});

import assert from "node:assert/strict";
import { test } from "node:test";
import { DONE, LineSplitter, MAX_LINE_CHARS, NdjsonFrames, NotJson, SseFrames } from "./framing.js";

/** Feeds `text` in pieces of `size` bytes and collects every frame. */
function feed<T>(frames: { push(c: Buffer): T[]; end(): T[] }, text: string, size: number): T[] {
  const bytes = Buffer.from(text);
  const out: T[] = [];
  for (let i = 0; i < bytes.length; i += size) out.push(...frames.push(bytes.subarray(i, i + size)));
  return [...out, ...frames.end()];
}

test("lines split across chunks, and multi-byte characters split across bytes, come out whole", () => {
  for (const size of [1, 2, 3, 64]) {
    assert.deepEqual(feed(new LineSplitter(), "héllo 🌍\r\nsecond\nlast", size), ["héllo 🌍", "second", "last"], `size ${size}`);
  }
});

test("NDJSON frames skip blank lines and keep a line that is not JSON as NotJson, for the reader to refuse", () => {
  const text = '{"a":1}\n\n  \nnot json\n{"b":"ü"}\r\n{"c":3}';
  for (const size of [1, 4, 100]) assert.deepEqual(feed(new NdjsonFrames(), text, size), [{ a: 1 }, new NotJson("not json"), { b: "ü" }, { c: 3 }]);
});

test("a last NDJSON line the server never finished is dropped, so the stream reads as cut short", () => {
  for (const size of [1, 4, 100]) assert.deepEqual(feed(new NdjsonFrames(), '{"a":1}\n{"done":tr', size), [{ a: 1 }], `size ${size}`);
});

test("SSE events join their data lines, skip comments and other fields, and read [DONE]", () => {
  const text = [
    ": ping",
    "",
    "id: 7",
    "retry: 100",
    'data: {"a":',
    "data: 1}",
    "",
    'data:{"b":2}',
    "",
    "data: [DONE]",
    "",
  ].join("\r\n");
  for (const size of [1, 3, 1000]) assert.deepEqual(feed(new SseFrames(), text, size), [{ a: 1 }, { b: 2 }, DONE], `size ${size}`);
});

test("SSE error events are read as errors: `event: error`, and llama.cpp's `error:` field", () => {
  const text = 'event: error\ndata: {"message":"boom"}\n\nerror: {"code":500,"message":"ctx"}\n\nevent: error\ndata: plain words\n\n';
  assert.deepEqual(feed(new SseFrames(), text, 5), [{ error: { message: "boom" } }, { error: { code: 500, message: "ctx" } }, { error: "plain words" }]);
});

test("an SSE event still open when the stream ends is dispatched, unless it was cut mid-JSON", () => {
  assert.deepEqual(feed(new SseFrames(), 'data: {"last":true}', 4), [{ last: true }]);
  assert.deepEqual(feed(new SseFrames(), 'data: {"a":1}\n\ndata: {"choices":[{"del', 4), [{ a: 1 }]);
});

test("SSE data that is not JSON is kept as NotJson, for the reader to refuse", () => {
  const text = "data: <html>502 Bad Gateway</html>\n\ndata: [DONE]\n\n";
  for (const size of [1, 7, 1000]) assert.deepEqual(feed(new SseFrames(), text, size), [new NotJson("<html>502 Bad Gateway</html>"), DONE], `size ${size}`);
});

test("a line that grows past the longest a stream may hold is given up as it stands, and nothing after it is read", () => {
  const frames = new NdjsonFrames();
  const chunk = Buffer.alloc(1024 * 1024, "a");
  const out: unknown[] = frames.push(Buffer.from('{"ok":1}\n'));
  for (let i = 0; i <= MAX_LINE_CHARS / chunk.length; i++) out.push(...frames.push(chunk));
  out.push(...frames.push(Buffer.from('\n{"after":1}\n')), ...frames.end());
  assert.equal(out.length, 2);
  assert.deepEqual(out[0], { ok: 1 });
  assert.ok(out[1] instanceof NotJson);
  assert.ok(out[1].text.length > MAX_LINE_CHARS);
});

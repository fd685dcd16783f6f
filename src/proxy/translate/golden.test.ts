import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { test } from "node:test";
import { BrokenAnswerError, clientApi, frameOf, translateRequest, type ClientPath, type Translation, type Usage } from "./index.js";

/**
 * Golden fixtures (fixtures/*.json): a client request → the expected upstream
 * request; upstream bodies → the expected client bodies, or the error (a 502)
 * a body that is no answer gives; upstream stream frames → the expected client
 * frames. Every stream is fed whole, byte by byte and in 5-byte pieces, so
 * lines, events and UTF-8 characters split across chunks.
 */

type Json = Record<string, unknown>;
/** A wire frame: a JSON payload, "[DONE]", or raw wire text (comments, CRLF, `error:` fields). */
type Frame = Json | "[DONE]" | { raw: string };

interface Fixture {
  behaviour: string;
  path: ClientPath;
  request: Json;
  upstream: { path: string; stream: boolean; body: Json };
  /** `upstream` is the body's JSON, or `{raw}` text; `error` is the message of the answer's 502. */
  answers?: Array<{ note?: string; upstream: unknown; client?: unknown; error?: string }>;
  streams?: Array<{ note?: string; upstream: Frame[]; client: Frame[]; usage?: Usage | null }>;
}

const FIXTURES = path.join(process.cwd(), "src/proxy/translate/fixtures");
const CTX = { requestId: "req-1", server: "gpu-1", created: 1_700_000_000 };
const CHUNKINGS = [Infinity, 1, 5];

const isRaw = (frame: unknown): frame is { raw: string } => typeof frame === "object" && frame !== null && typeof (frame as Json).raw === "string";

function wire(frames: Frame[], sse: boolean): Buffer {
  const text = frames
    .map((f) => (isRaw(f) ? f.raw : f === "[DONE]" ? "data: [DONE]\n\n" : sse ? `data: ${JSON.stringify(f)}\n\n` : `${JSON.stringify(f)}\n`))
    .join("");
  return Buffer.from(text);
}

/** Reads the client's stream back strictly: every byte must belong to a well-formed frame. */
function frames(text: string, sse: boolean): unknown[] {
  if (text === "") return [];
  if (sse) {
    assert.match(text, /^(data: [^\n]+\n\n)+$/, "SSE output is a run of `data: …\\n\\n` events");
    return text.split("\n\n").slice(0, -1).map((e) => (e === "data: [DONE]" ? "[DONE]" : JSON.parse(e.slice(6))));
  }
  assert.ok(text.endsWith("\n"), "NDJSON output ends with a newline");
  return text.slice(0, -1).split("\n").map((l) => JSON.parse(l));
}

function runStream(translation: Translation, upstream: Buffer, piece: number): { text: string; usage: Usage | undefined } {
  const translator = translation.response.stream();
  let text = "";
  const size = Math.min(piece, upstream.length || 1);
  for (let i = 0; i < upstream.length; i += size) text += translator.push(upstream.subarray(i, i + size));
  text += translator.end();
  return { text, usage: translator.usage };
}

for (const file of readdirSync(FIXTURES).filter((f) => f.endsWith(".json")).sort()) {
  const fixture = JSON.parse(readFileSync(path.join(FIXTURES, file), "utf8")) as Fixture;

  test(fixture.behaviour, async (t) => {
    const translation = translateRequest(fixture.path, structuredClone(fixture.request), CTX);
    assert.deepEqual(
      { path: translation.path, stream: translation.stream, body: translation.body },
      fixture.upstream,
      `${file}: upstream request`,
    );

    for (const [i, answer] of (fixture.answers ?? []).entries()) {
      await t.test(answer.note ?? `answer ${i}`, () => {
        const upstream = isRaw(answer.upstream) ? frameOf(answer.upstream.raw) : structuredClone(answer.upstream);
        if (answer.error === undefined) return assert.deepEqual(translation.response.json(upstream), answer.client);
        assert.throws(
          () => translation.response.json(upstream),
          (err: unknown) => {
            assert.ok(err instanceof BrokenAnswerError, `a BrokenAnswerError, not ${String(err)}`);
            assert.equal(err.message, answer.error);
            return true;
          },
        );
      });
    }

    const clientSse = clientApi(fixture.path) === "openai";
    for (const [i, stream] of (fixture.streams ?? []).entries()) {
      await t.test(stream.note ?? `stream ${i}`, () => {
        assert.equal(translation.response.streamContentType, clientSse ? "text/event-stream" : "application/x-ndjson");
        const upstream = wire(stream.upstream, !clientSse);
        for (const piece of CHUNKINGS) {
          const { text, usage } = runStream(translation, upstream, piece);
          assert.deepEqual(frames(text, clientSse), stream.client, `fed in ${piece}-byte pieces`);
          if (stream.usage !== undefined) assert.deepEqual(usage, stream.usage ?? undefined, `usage, fed in ${piece}-byte pieces`);
        }
      });
    }
  });
}

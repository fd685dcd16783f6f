import { BrokenAnswerError } from "./errors.js";
import { NdjsonFrames, SseFrames } from "./framing.js";
import { FragmentAssembler } from "./tool-calls.js";
import type {
  Answer,
  AnswerEvent,
  ClientWriter,
  ResponseTranslator,
  StreamTranslator,
  Timings,
  TranslateContext,
  ToolCall,
  UpstreamReader,
  Usage,
} from "./types.js";

/**
 * The one engine: an upstream reader turns frames into neutral events, a
 * client writer turns events into the client's wire format. Every endpoint
 * pair is a (reader, writer) couple; nothing here knows either API.
 */
export function responseTranslator(reader: UpstreamReader, writer: ClientWriter, ctx: TranslateContext): ResponseTranslator {
  const server = `server ${ctx.server}`;
  return {
    streamContentType: writer.contentType,
    json: (upstream) => writer.whole(foldAnswer(reader.whole(upstream), server)),
    stream: () => new StreamEngine(reader, writer, server),
  };
}

/** A whole (non-streamed) body: its events folded into one answer. An error body, or one that is no answer, throws. */
function foldAnswer(events: AnswerEvent[], server: string): Answer {
  const answer: Answer = { content: "", thinking: "", calls: [], finish: undefined, usage: undefined, timings: undefined, toolCalls: false };
  const fragments = new FragmentAssembler();
  for (const e of events) {
    if (e.type === "text") {
      answer.content += e.content ?? "";
      answer.thinking += e.thinking ?? "";
    } else if (e.type === "tool_calls") answer.calls.push(...e.calls);
    else if (e.type === "tool_fragments") fragments.add(e.fragments);
    else if (e.type === "finish") answer.finish = e.reason;
    else if (e.type === "usage") answer.usage = e.usage;
    else if (e.type === "timings") answer.timings = e.timings;
    else if (e.type === "error") throw new BrokenAnswerError(`${server} answered with an error: ${e.message}`);
    else if (e.type === "broken") throw new BrokenAnswerError(`${server} ${e.problem}`);
  }
  answer.calls.push(...fragments.take());
  answer.toolCalls = answer.calls.length > 0;
  return answer;
}

/**
 * A stream: frames in, client frames out; tool call fragments are held until
 * their call is whole. It ends with the server's last chunk, or with an error
 * line: the server's own error, a frame that is no answer, or a stream that
 * stops before its end (neither its end marker nor a finish reason came).
 */
class StreamEngine implements StreamTranslator {
  private readonly frames: NdjsonFrames | SseFrames;
  private readonly fragments = new FragmentAssembler();
  private opened = false;
  private ended = false;
  private sentCalls = 0;
  private finish: string | undefined;
  private timings: Timings | undefined;
  usage: Usage | undefined;
  error: string | undefined;

  constructor(
    private readonly reader: UpstreamReader,
    private readonly writer: ClientWriter,
    private readonly server: string,
  ) {
    this.frames = reader.framing === "sse" ? new SseFrames() : new NdjsonFrames();
  }

  push(chunk: Buffer): string {
    return this.frames.push(chunk).map((payload) => this.frame(payload)).join("");
  }

  end(): string {
    const rest = this.frames.end().map((payload) => this.frame(payload)).join("");
    // An OpenAI-compatible server that leaves out [DONE] has still finished once it gave a finish reason.
    if (this.finish === undefined) return rest + this.handle({ type: "broken", problem: "ended the stream before its last chunk" });
    return rest + this.handle({ type: "end" });
  }

  private frame(payload: unknown): string {
    if (this.ended) return "";
    return this.reader.events(payload).map((e) => this.handle(e)).join("");
  }

  private handle(e: AnswerEvent): string {
    if (this.ended) return "";
    if (e.type === "error" || e.type === "broken") {
      this.ended = true;
      this.error = e.type === "error" ? e.message : `${this.server} ${e.problem}`;
      return this.writer.error(this.error);
    }
    const out = this.open();
    switch (e.type) {
      case "text":
        return out + this.writer.text(e.content ?? "", e.thinking ?? "");
      case "tool_calls":
        return out + this.sendCalls(e.calls);
      case "tool_fragments":
        this.fragments.add(e.fragments);
        return out;
      case "finish":
        this.finish = e.reason;
        return out + this.sendCalls(this.fragments.take());
      case "usage":
        this.usage = e.usage;
        return out;
      case "timings":
        this.timings = e.timings;
        return out;
      case "end":
        return out + this.sendCalls(this.fragments.take()) + this.close();
    }
  }

  private open(): string {
    if (this.opened) return "";
    this.opened = true;
    return this.writer.open();
  }

  private sendCalls(calls: ToolCall[]): string {
    if (calls.length === 0) return "";
    const out = this.writer.toolCalls(calls, this.sentCalls);
    this.sentCalls += calls.length;
    return out;
  }

  private close(): string {
    this.ended = true;
    return this.writer.close({ finish: this.finish, usage: this.usage, timings: this.timings, toolCalls: this.sentCalls > 0 });
  }
}

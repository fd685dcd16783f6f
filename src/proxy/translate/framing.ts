import { StringDecoder } from "node:string_decoder";
import { errorMessageOf, parseJson } from "./values.js";

/** The `data: [DONE]` that ends an OpenAI stream. */
export const DONE = Symbol("done");

/** A frame whose text is not JSON: kept (not skipped) so that a reader can say the server sent garbage. */
export class NotJson {
  constructor(readonly text: string) {}
}

/** The frame a complete line or event carries: its JSON, or NotJson. */
export function frameOf(text: string): unknown {
  const parsed = parseJson(text);
  return parsed === undefined ? new NotJson(text) : parsed;
}

/** No line of a stream is this long: a server that sends one is answering garbage, and holding it would take memory without end. */
export const MAX_LINE_CHARS = 16 * 1024 * 1024;

/**
 * Cuts a byte stream into complete lines, whatever the chunk boundaries (UTF-8
 * safe, CRLF tolerant). A line that grows past MAX_LINE_CHARS is given as it
 * stands (it will not read as JSON) and nothing after it is.
 */
export class LineSplitter {
  private readonly decoder = new StringDecoder("utf8");
  private rest = "";
  private overflowed = false;

  push(chunk: Buffer): string[] {
    if (this.overflowed) return [];
    const lines = (this.rest + this.decoder.write(chunk)).split("\n");
    this.rest = lines.pop() as string;
    if (this.rest.length > MAX_LINE_CHARS) {
      this.overflowed = true;
      lines.push(this.rest);
      this.rest = "";
    }
    return lines.map(stripCr);
  }

  end(): string[] {
    if (this.overflowed) return [];
    const last = this.rest + this.decoder.end();
    this.rest = "";
    return last === "" ? [] : [stripCr(last)];
  }
}

const stripCr = (line: string) => (line.endsWith("\r") ? line.slice(0, -1) : line);

/**
 * NDJSON: one JSON value per non-blank line; a line that is not JSON is a
 * NotJson. A last line without its newline that is not JSON is one the
 * server never finished: dropped, so the stream reads as cut short.
 */
export class NdjsonFrames {
  private readonly lines = new LineSplitter();

  push(chunk: Buffer): unknown[] {
    return this.lines.push(chunk).filter(notBlank).map(frameOf);
  }

  end(): unknown[] {
    return this.lines.end().filter(notBlank).map(parseJson).filter((v) => v !== undefined);
  }
}

const notBlank = (line: string) => line.trim() !== "";

/**
 * Server-sent events: `data:` lines joined until a blank line; `[DONE]` → DONE.
 * An `event: error` event, or llama.cpp's `error:` field, is read as `{error}`.
 * Comments and other fields (id, retry) are skipped. Data that is not JSON is
 * a NotJson, unless the stream ends before the event's blank line (cut short: dropped).
 */
export class SseFrames {
  private readonly lines = new LineSplitter();
  private data: string[] = [];
  private event = "";

  push(chunk: Buffer): unknown[] {
    return this.read(this.lines.push(chunk));
  }

  end(): unknown[] {
    const last = [...this.read(this.lines.end()), ...this.dispatch()];
    return last.filter((frame) => !(frame instanceof NotJson));
  }

  private read(lines: string[]): unknown[] {
    const out: unknown[] = [];
    for (const line of lines) {
      if (line === "") {
        out.push(...this.dispatch());
        continue;
      }
      const colon = line.indexOf(":");
      if (colon === 0) continue;
      const field = colon === -1 ? line : line.slice(0, colon);
      const value = colon === -1 ? "" : line.slice(line[colon + 1] === " " ? colon + 2 : colon + 1);
      if (field === "data") this.data.push(value);
      else if (field === "event") this.event = value;
      else if (field === "error") out.push(asError(value));
    }
    return out;
  }

  private dispatch(): unknown[] {
    const data = this.data.join("\n");
    const event = this.event;
    this.data = [];
    this.event = "";
    if (data === "") return [];
    if (data.trim() === "[DONE]") return [DONE];
    return [event === "error" ? asError(data) : frameOf(data)];
  }
}

function asError(text: string): unknown {
  const parsed = parseJson(text);
  return errorMessageOf(parsed) === undefined ? { error: parsed ?? text } : parsed;
}

export const sse = (payload: unknown): string => `data: ${JSON.stringify(payload)}\n\n`;
export const SSE_DONE = "data: [DONE]\n\n";
export const ndjson = (payload: unknown): string => `${JSON.stringify(payload)}\n`;

import { StringDecoder } from "node:string_decoder";
import { errorMessageOf, parseJson } from "./values.js";

/** The `data: [DONE]` that ends an OpenAI stream. */
export const DONE = Symbol("done");

/** Cuts a byte stream into complete lines, whatever the chunk boundaries (UTF-8 safe, CRLF tolerant). */
export class LineSplitter {
  private readonly decoder = new StringDecoder("utf8");
  private rest = "";

  push(chunk: Buffer): string[] {
    const lines = (this.rest + this.decoder.write(chunk)).split("\n");
    this.rest = lines.pop() as string;
    return lines.map(stripCr);
  }

  end(): string[] {
    const last = this.rest + this.decoder.end();
    this.rest = "";
    return last === "" ? [] : [stripCr(last)];
  }
}

const stripCr = (line: string) => (line.endsWith("\r") ? line.slice(0, -1) : line);

/** NDJSON: one JSON value per non-blank line; a line that is not JSON is skipped. */
export class NdjsonFrames {
  private readonly lines = new LineSplitter();

  push(chunk: Buffer): unknown[] {
    return this.read(this.lines.push(chunk));
  }

  end(): unknown[] {
    return this.read(this.lines.end());
  }

  private read(lines: string[]): unknown[] {
    return lines.filter((l) => l.trim() !== "").map((l) => parseJson(l)).filter((v) => v !== undefined);
  }
}

/**
 * Server-sent events: `data:` lines joined until a blank line; `[DONE]` → DONE.
 * An `event: error` event, or llama.cpp's `error:` field, is read as `{error}`.
 * Comments and other fields (id, retry) are skipped.
 */
export class SseFrames {
  private readonly lines = new LineSplitter();
  private data: string[] = [];
  private event = "";

  push(chunk: Buffer): unknown[] {
    return this.read(this.lines.push(chunk));
  }

  end(): unknown[] {
    return [...this.read(this.lines.end()), ...this.dispatch()];
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
    return event === "error" ? [asError(data)] : [parseJson(data)].filter((v) => v !== undefined);
  }
}

function asError(text: string): unknown {
  const parsed = parseJson(text);
  return errorMessageOf(parsed) === undefined ? { error: parsed ?? text } : parsed;
}

export const sse = (payload: unknown): string => `data: ${JSON.stringify(payload)}\n\n`;
export const SSE_DONE = "data: [DONE]\n\n";
export const ndjson = (payload: unknown): string => `${JSON.stringify(payload)}\n`;

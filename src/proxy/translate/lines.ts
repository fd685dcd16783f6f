import { StringDecoder } from "node:string_decoder";

/** Splits a byte stream into complete lines, whatever the chunk boundaries (UTF-8 safe). */
export class LineBuffer {
  private readonly decoder = new StringDecoder("utf8");
  private rest = "";

  push(chunk: Buffer): string[] {
    const lines = (this.rest + this.decoder.write(chunk)).split("\n");
    this.rest = lines.pop() as string;
    return lines.filter((l) => l.trim() !== "");
  }

  end(): string[] {
    const last = this.rest + this.decoder.end();
    this.rest = "";
    return last.trim() ? [last] : [];
  }
}

export const DONE = Symbol("done");

/** One SSE line → its JSON payload, DONE for `[DONE]`, or undefined for comments, other fields and junk. */
export function sseData(line: string): unknown {
  if (!line.startsWith("data:")) return undefined;
  const data = line.slice(5).trim();
  if (data === "[DONE]") return DONE;
  try {
    return JSON.parse(data);
  } catch {
    return undefined;
  }
}

export function parseLine(line: string): unknown {
  try {
    return JSON.parse(line);
  } catch {
    return undefined;
  }
}

export const sse = (payload: unknown): string => `data: ${JSON.stringify(payload)}\n\n`;
export const ndjson = (payload: unknown): string => `${JSON.stringify(payload)}\n`;

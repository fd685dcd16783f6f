import type { ServerResponse } from "node:http";
import type { Later } from "./timers.js";

export type Json = Record<string, unknown>;

/** One request being answered, and what the handlers need besides it. */
export interface Exchange {
  readonly res: ServerResponse;
  readonly method: string;
  readonly path: string;
  /** The body when it is a JSON object; {} otherwise. */
  readonly body: Json;
  /** Why `body` is {}: no body at all, or one that is not a JSON object. */
  readonly bodyProblem?: "missing" | "invalid";
  /** performance.now() when the request arrived. */
  readonly startedAt: number;
  readonly later: Later;
  /** From a failure injection: cut the connection after this many chunks. */
  readonly dropAfterChunks?: number;
  /** From a failure injection: end the response cleanly after this many chunks. */
  readonly endAfterChunks?: number;
  /** From a failure injection: a line that is not JSON after this many chunks. */
  readonly garbageAfterChunks?: number;
  /** `dropped` is set when the sim itself cut the connection, so it is not counted as the client going away. */
  readonly outcome: { dropped: boolean };
}

/** A chunk of a streamed body, or a function building it when it is written (for timestamps and durations). */
export type Chunk = string | (() => string);

export const JSON_TYPE = "application/json; charset=utf-8";
export const TEXT_TYPE = "text/plain; charset=utf-8";

export function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Nanoseconds since the request arrived. */
export function elapsedNs(x: Exchange): number {
  return Math.round((performance.now() - x.startedAt) * 1_000_000);
}

export function sendJson(x: Exchange, status: number, body: unknown): void {
  sendBody(x, status, JSON_TYPE, JSON.stringify(body));
}

/** A status with no body, as Go servers answer a handler that wrote nothing. */
export function sendEmpty(x: Exchange, status: number): void {
  if (x.res.destroyed) return;
  if (x.dropAfterChunks !== undefined) return cut(x);
  x.res.writeHead(status, { "content-length": 0 }).end();
}

/** A whole body at once. A drop injection sends the head and half the body, then cuts; an early end sends half the body as if it were all. */
export function sendBody(x: Exchange, status: number, type: string, whole: string): void {
  const { res } = x;
  if (res.destroyed) return;
  const text = x.endAfterChunks === undefined ? whole : Buffer.from(whole).subarray(0, Math.floor(Buffer.byteLength(whole) / 2)).toString();
  const length = Buffer.byteLength(text);
  if (x.dropAfterChunks === 0) return cut(x);
  res.writeHead(status, { "content-type": type, "content-length": length });
  if (x.dropAfterChunks === undefined) return void res.end(text);
  res.write(Buffer.from(text).subarray(0, Math.floor(length / 2)));
  x.later(0, () => cut(x));
}

/**
 * Streams chunks: back to back in one write when no interval is set, else
 * one every `intervalMs`. `beforeLast` runs just before the last chunk goes
 * out (a pull's model appears as its "success" line is sent).
 */
export function streamChunks(x: Exchange, type: string, answer: Chunk[], intervalMs: number, beforeLast?: () => void): void {
  const { res } = x;
  const chunks = injected(x, type, answer);
  if (res.destroyed) return;
  const drop = x.dropAfterChunks;
  if (drop === 0) return cut(x);
  res.writeHead(200, { "content-type": type });
  if (chunks.length === 0) return void res.end();
  if (!intervalMs && drop === undefined) {
    beforeLast?.();
    res.write(chunks.map(textOf).join(""));
    return void res.end();
  }
  let sent = 0;
  const next = (): void => {
    if (res.destroyed) return;
    do {
      if (sent === drop) return x.later(0, () => cut(x));
      if (sent === chunks.length - 1) beforeLast?.();
      res.write(textOf(chunks[sent++]));
      if (sent === chunks.length && sent !== drop) return void res.end();
    } while (!intervalMs);
    x.later(intervalMs, next);
  };
  next();
}

/** What a server with a broken stream would send instead: the answer cut short, or with a line of garbage in it. */
function injected(x: Exchange, type: string, chunks: Chunk[]): Chunk[] {
  const { endAfterChunks: end, garbageAfterChunks: garbage } = x;
  const kept = end === undefined ? chunks : chunks.slice(0, end);
  if (garbage === undefined) return kept;
  const line = type.startsWith("text/event-stream") ? `data: ${GARBAGE}\n\n` : `${GARBAGE}\n`;
  return [...kept.slice(0, garbage), line, ...kept.slice(garbage)];
}

/** A proxy's error page where a server's answer should be. */
export const GARBAGE = "<html><body>502 Bad Gateway</body></html>";

function textOf(chunk: Chunk): string {
  return typeof chunk === "string" ? chunk : chunk();
}

/** Destroys the connection mid-answer, as a crashing server would. */
function cut(x: Exchange): void {
  x.outcome.dropped = true;
  x.res.socket?.destroy();
  x.res.destroy();
}

import { Transform } from "node:stream";
import type { FastifyInstance } from "fastify";
import type { Config } from "../config/index.js";
import { FlotillaError, type BodyClass } from "../kernel/index.js";
import { bodyHoldsNul } from "./nul-guard.js";

/** Deeper JSON than this is refused: no request needs it, and walking it (JSON.stringify, a structured clone) could exhaust the stack. */
export const MAX_JSON_DEPTH = 256;

/**
 * Every body is JSON whatever its content type says (Ollama's server reads
 * JSON from `curl -d` too), except blob uploads, which stay a stream. Each
 * route's body is bounded by its class (`config.body`); over it is a 413,
 * refused from Content-Length before a byte is read when the client sent one.
 */
export function registerBodyParsing(app: FastifyInstance, limits: Readonly<Config["limits"]>): void {
  const bytes: Record<BodyClass, number> = { json: limits.json_body_bytes, inference: limits.inference_body_bytes, upload: limits.upload_body_bytes };
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("*", function parseBody(req, payload, done) {
    const kind = req.routeOptions.config.body ?? "json";
    const limit = bytes[kind];
    const declared = Number(req.headers["content-length"]);
    if (limit > 0 && declared > limit) return done(tooLarge(kind, limit, declared - limit > LINGER_BYTES), undefined);
    if (kind === "upload") return done(null, limit > 0 ? payload.pipe(bounded(limit, kind)) : payload);
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) return void chunks.push(chunk);
      payload.off("data", onData).off("end", onEnd);
      discardRest(payload, size - limit);
      done(tooLarge(kind, limit, false), undefined);
    };
    const onEnd = () => {
      const raw = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
      req.rawBody = raw;
      if (raw.length === 0) return done(null, undefined);
      const parsed = parseJson(raw);
      if (parsed instanceof FlotillaError) done(parsed, undefined);
      else done(null, parsed.value);
    };
    payload.on("data", onData).on("end", onEnd).on("error", (err) => done(err, undefined));
  });
}

/**
 * Past its limit, a body is still read (and dropped) for a while, so a client
 * still sending sees the 413 rather than a broken pipe; one that sends far
 * more has its connection cut.
 */
const LINGER_BYTES = 4 * 1024 * 1024;

function discardRest(payload: NodeJS.ReadableStream & { destroy(): void }, alreadyOver: number): void {
  let over = alreadyOver;
  payload.on("data", (chunk: Buffer) => {
    over += chunk.length;
    if (over > LINGER_BYTES) payload.destroy();
  });
}

function parseJson(raw: Buffer): FlotillaError | { value: unknown } {
  let value: unknown;
  try {
    value = JSON.parse(raw.toString("utf8"));
  } catch (err) {
    return new FlotillaError("invalid_json", `the request body is not valid JSON: ${(err as Error).message}`);
  }
  if (!withinDepth(value, MAX_JSON_DEPTH)) return new FlotillaError("invalid_json", `the request body is nested more than ${MAX_JSON_DEPTH} levels deep`);
  if (bodyHoldsNul(raw, value)) return new FlotillaError("invalid_request", "a string in the request body holds a NUL character (\\u0000)");
  return { value };
}

/** Whether no array or object in `value` is nested deeper than `max`; walked without recursion, strings never entered. */
function withinDepth(value: unknown, max: number): boolean {
  if (value === null || typeof value !== "object") return true;
  const stack: Array<[object, number]> = [[value, 1]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop() as [object, number];
    if (depth > max) return false;
    for (const child of Array.isArray(node) ? node : Object.values(node)) {
      if (child !== null && typeof child === "object") stack.push([child as object, depth + 1]);
    }
  }
  return true;
}

/** `close`: the client announced more than is worth reading to the end, so the connection ends with the answer. */
function tooLarge(kind: BodyClass, limit: number, close: boolean): FlotillaError {
  return new FlotillaError("payload_too_large", `the request body is over ${limit} bytes, the limit for ${kind} routes (limits.${kind}_body_bytes)`, {
    headers: close ? { connection: "close" } : undefined,
  });
}

/** A blob upload without Content-Length, cut off with a 413's error once it passes its limit. */
function bounded(limit: number, kind: BodyClass): Transform {
  let size = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      size += chunk.length;
      callback(size > limit ? tooLarge(kind, limit, true) : null, chunk);
    },
  });
}


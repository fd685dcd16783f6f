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
export function registerBodyParsing(app: FastifyInstance, limits: Readonly<Config["limits"]>, guestBodyBytes: number): void {
  const bytes: Record<BodyClass, number> = { json: limits.json_body_bytes, inference: limits.inference_body_bytes, upload: limits.upload_body_bytes };
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("*", function parseBody(req, payload, done) {
    const kind = req.routeOptions.config.body ?? "json";
    const guest = req.principal?.role === "guest";
    const limit = guest ? Math.min(bytes[kind] || Infinity, guestBodyBytes) : bytes[kind];
    const setting = guest && limit === guestBodyBytes ? "auth.guest_limits.body_bytes" : `limits.${kind}_body_bytes`;
    const declared = Number(req.headers["content-length"]);
    if (limit > 0 && declared > limit) return done(tooLarge(limit, setting, declared - limit > LINGER_BYTES), undefined);
    // A streamed upload is not held: it goes on as the server takes it.
    if (kind === "upload") return done(null, limit > 0 ? payload.pipe(bounded(limit, setting)) : payload);
    // What the caller's requests hold at once is bounded too (limits.body_bytes_in_flight_per_key): the declared size up front, else as it comes.
    const share = req.inFlight;
    if (share && declared > 0) {
      const refused = share.holdBytes(declared);
      if (refused) return done(closing(refused, declared > LINGER_BYTES), undefined);
    }
    const chunks: Buffer[] = [];
    let size = 0;
    // A body trickled in a byte at a time would hold its socket and what it has sent so far: it must all come in time.
    const late = setTimeout(() => {
      payload.off("data", onData).off("end", onEnd).pause();
      done(closing(new FlotillaError("request_timeout", `the request body did not arrive within ${limits.body_timeout_ms} ms (limits.body_timeout_ms)`), true), undefined);
    }, limits.body_timeout_ms);
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      const refused = size > limit ? tooLarge(limit, setting, false) : share && !(declared > 0) ? share.holdBytes(chunk.length) : undefined;
      if (!refused) return void chunks.push(chunk);
      clearTimeout(late);
      payload.off("data", onData).off("end", onEnd);
      discardRest(payload, Math.max(0, size - limit));
      done(refused, undefined);
    };
    const onEnd = () => {
      clearTimeout(late);
      const raw = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
      req.rawBody = raw;
      if (raw.length === 0) return done(null, undefined);
      const parsed = parseJson(raw);
      if (parsed instanceof FlotillaError) done(parsed, undefined);
      else done(null, parsed.value);
    };
    payload.on("data", onData).on("end", onEnd).on("error", (err) => {
      clearTimeout(late);
      done(err, undefined);
    });
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
function tooLarge(limit: number, setting: string, close: boolean): FlotillaError {
  return closing(new FlotillaError("payload_too_large", `the request body is over ${limit} bytes, the most this route takes from this caller (${setting})`), close);
}

function closing(err: FlotillaError, close: boolean): FlotillaError {
  return close ? new FlotillaError(err.code, err.message, { headers: { ...err.headers, connection: "close" } }) : err;
}

/** A blob upload without Content-Length, cut off with a 413's error once it passes its limit. */
function bounded(limit: number, setting: string): Transform {
  let size = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      size += chunk.length;
      callback(size > limit ? tooLarge(limit, setting, true) : null, chunk);
    },
  });
}


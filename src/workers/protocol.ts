import { Type, type Static, type TSchema } from "@sinclair/typebox";
import { TypeCompiler } from "@sinclair/typebox/compiler";
import { SystemMetrics } from "../fleet/system-metrics.js";

/**
 * The worker protocol (docs/worker-protocol.md). Control messages are JSON
 * text frames; response bytes travel in binary frames, a 4-byte big-endian
 * request number then the bytes, so a streamed answer is never re-encoded.
 */

const Api = Type.Union([Type.Literal("ollama"), Type.Literal("openai")]);

const ModelInfo = Type.Object(
  {
    name: Type.String({ minLength: 1 }),
    size: Type.Optional(Type.Number()),
    digest: Type.Optional(Type.String()),
    modified_at: Type.Optional(Type.String()),
    details: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  },
  { additionalProperties: true },
);
const LoadedInfo = Type.Object(
  {
    name: Type.String({ minLength: 1 }),
    size: Type.Optional(Type.Number()),
    size_vram: Type.Optional(Type.Number()),
    expires_at: Type.Optional(Type.String()),
  },
  { additionalProperties: true },
);

const WorkerName = Type.String({ minLength: 1, maxLength: 128, pattern: "^[A-Za-z0-9._:@-]+$" });

/** Seed 000's register message, with the API the worker speaks (default ollama). */
export const RegisterMessage = Type.Object({
  type: Type.Literal("register"),
  client_key: Type.Optional(Type.String()),
  worker_id: Type.Optional(WorkerName),
  worker_name: Type.Optional(WorkerName),
  models: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
  max_concurrency: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000 })),
  api: Type.Optional(Api),
  agent: Type.Optional(Type.String({ maxLength: 200 })),
});
export type RegisterMessage = Static<typeof RegisterMessage>;

export const HeartbeatMessage = Type.Object({
  type: Type.Literal("heartbeat"),
  in_flight: Type.Optional(Type.Integer({ minimum: 0 })),
  max_concurrency: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000 })),
  models: Type.Optional(Type.Object({ available: Type.Array(ModelInfo), loaded: Type.Array(LoadedInfo) })),
  system: Type.Optional(SystemMetrics),
});
export type HeartbeatMessage = Static<typeof HeartbeatMessage>;

export const ResponseMessage = Type.Object({
  type: Type.Literal("response"),
  id: Type.Integer({ minimum: 0 }),
  status: Type.Integer({ minimum: 100, maximum: 599 }),
  headers: Type.Optional(Type.Record(Type.String(), Type.String())),
});
export const EndMessage = Type.Object({ type: Type.Literal("end"), id: Type.Integer({ minimum: 0 }) });
export const ErrorMessage = Type.Object({
  type: Type.Literal("error"),
  id: Type.Integer({ minimum: 0 }),
  message: Type.String(),
  /** `unreachable`: the worker could not reach what serves the model; worth another server. */
  code: Type.Optional(Type.String()),
});

/** Everything a worker may send after registering. */
export const WorkerMessage = Type.Union([HeartbeatMessage, ResponseMessage, EndMessage, ErrorMessage]);
export type WorkerMessage = Static<typeof WorkerMessage>;

export interface RegisteredMessage {
  type: "registered";
  worker_id: string;
  name: string;
  heartbeat_interval_ms: number;
}

export interface RequestMessage {
  type: "request";
  id: number;
  request_id: string;
  method: "GET" | "POST" | "DELETE" | "HEAD";
  path: string;
  content_type?: string;
  /** A UTF-8 body (JSON), or `body_base64` for bytes. */
  body?: string;
  body_base64?: string;
}

/** The gateway stops wanting a request's answer (the client left), or its buffer is full or drained. */
export interface FlowMessage {
  type: "cancel" | "pause" | "resume";
  id: number;
}

export type GatewayMessage = RegisteredMessage | RequestMessage | FlowMessage;

/** Close codes, with the reason text beside them. */
export const CLOSE = {
  normal: 1000,
  goingAway: 1001,
  badRegister: 4400,
  unauthorized: 4401,
  nameTaken: 4409,
  registerTimeout: 4408,
  heartbeatTimeout: 4410,
  replaced: 4000,
} as const;

const compiled = new Map<TSchema, ReturnType<typeof TypeCompiler.Compile>>();

type Checked<T extends TSchema> = { ok: true; value: Static<T> } | { ok: false; error: string };

/** Parses and checks one message; the error names what is wrong. */
export function parseMessage<T extends TSchema>(schema: T, text: string): Checked<T> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, error: "not JSON" };
  }
  return checkMessage(schema, value);
}

/** Checks a parsed message against its schema. */
export function checkMessage<T extends TSchema>(schema: T, value: unknown): Checked<T> {
  let check = compiled.get(schema);
  if (!check) {
    check = TypeCompiler.Compile(schema);
    compiled.set(schema, check);
  }
  if (check.Check(value)) return { ok: true, value: value as Static<T> };
  const first = check.Errors(value).First();
  return { ok: false, error: first ? `${first.path || "message"}: ${first.message}` : "invalid message" };
}

/** A binary frame: request number, then the bytes. */
export function encodeChunk(id: number, chunk: Buffer): Buffer {
  const frame = Buffer.allocUnsafe(4 + chunk.length);
  frame.writeUInt32BE(id, 0);
  chunk.copy(frame, 4);
  return frame;
}

export function decodeChunk(frame: Buffer): { id: number; chunk: Buffer } | undefined {
  if (frame.length < 4) return undefined;
  return { id: frame.readUInt32BE(0), chunk: frame.subarray(4) };
}

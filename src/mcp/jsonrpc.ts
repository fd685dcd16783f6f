import { Type, type Static } from "@sinclair/typebox";

/** A request's id, echoed in its answer: a string, or an integer a JSON number holds exactly. */
export const JsonRpcId = Type.Union([Type.String({ maxLength: 256 }), Type.Integer({ minimum: -Number.MAX_SAFE_INTEGER, maximum: Number.MAX_SAFE_INTEGER })]);

/**
 * What a caller may POST to a relay: one JSON-RPC 2.0 request or notification
 * (no id), or a batch of them. Responses to server-initiated requests cannot
 * travel this way: a relay answers only what it is asked.
 */
export const JsonRpcRequest = Type.Object(
  {
    jsonrpc: Type.Literal("2.0"),
    id: Type.Optional(JsonRpcId),
    method: Type.String({ minLength: 1, maxLength: 256 }),
    params: Type.Optional(Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Array(Type.Unknown())])),
  },
  { additionalProperties: true },
);
export type JsonRpcRequest = Static<typeof JsonRpcRequest>;

export const MAX_BATCH = 1000;
export const JsonRpcBody = Type.Union([JsonRpcRequest, Type.Array(JsonRpcRequest, { minItems: 1, maxItems: MAX_BATCH })], {
  description: "A JSON-RPC 2.0 request, a notification (no `id`), or a batch of them.",
});
export type JsonRpcBody = Static<typeof JsonRpcBody>;

export type JsonRpcId = string | number;

/** A JSON-RPC response object, as relays and MCP servers answer. */
export interface JsonRpcResponse {
  jsonrpc: "2.0";
  id: JsonRpcId | null;
  result?: unknown;
  error?: { code: number; message: string; data?: unknown };
}

export const isNotification = (m: JsonRpcRequest): boolean => m.id === undefined;

/** Whether nothing in the body wants an answer (HTTP 202, as MCP's streamable HTTP answers notifications). */
export function onlyNotifications(body: JsonRpcBody): boolean {
  return Array.isArray(body) ? body.every(isNotification) : isNotification(body);
}

/** The method named first, for logs and nfrx's `hint`. */
export function firstMethod(body: JsonRpcBody): string {
  return Array.isArray(body) ? body[0].method : body.method;
}

/** The id the caller used, when there is exactly one, so an error can answer it. */
export function singleId(body: JsonRpcBody): JsonRpcId | null {
  return Array.isArray(body) ? null : (body.id ?? null);
}

import { Type, type Static } from "@sinclair/typebox";

/**
 * nfrx's relay protocol (modules/mcp: the broker and the relay), so an nfrx
 * relay and `flotilla mcp-relay` both dial in. The relay's first message
 * registers; the gateway answers `{ id }`. Then each call is a session:
 *
 *   gateway → relay  { t: "open", sid, req_id, hint: method, auth }
 *   relay → gateway  { t: "open.ok", sid } | { t: "open.fail", sid, code, msg }
 *   gateway → relay  { t: "rpc", sid, payload: <JSON-RPC request or batch> }
 *   relay → gateway  { t: "rpc", sid, payload: <JSON-RPC response or batch> }, { t: "close", sid }
 *   gateway → relay  { t: "close", sid, msg }   (done, timeout, cancelled: the relay stops the call)
 *
 * and `{ t: "ping" }` / `{ t: "pong" }` both ways. All frames are JSON text.
 */

export const RelayId = Type.String({ minLength: 1, maxLength: 128, pattern: "^[A-Za-z0-9._:@-]+$" });

export const RelayRegister = Type.Object({
  id: Type.Optional(Type.Union([RelayId, Type.Literal("")])),
  client_name: Type.Optional(Type.String({ maxLength: 200 })),
  client_key: Type.Optional(Type.String()),
});
export type RelayRegister = Static<typeof RelayRegister>;

export const RelayFrame = Type.Object(
  {
    t: Type.String(),
    sid: Type.Optional(Type.String()),
    req_id: Type.Optional(Type.String()),
    hint: Type.Optional(Type.String()),
    payload: Type.Optional(Type.Unknown()),
    code: Type.Optional(Type.String()),
    msg: Type.Optional(Type.String()),
    auth: Type.Optional(Type.String()),
  },
  { additionalProperties: true },
);
export type RelayFrame = Static<typeof RelayFrame>;

/** The code a relay sends in `open.fail` when the caller's bearer is not its token. */
export const RELAY_UNAUTHORIZED = "MCP_UNAUTHORIZED";

/** Close codes: nfrx closes a refused relay with 1008 (policy violation), the reason saying why. */
export const RELAY_CLOSE = { normal: 1000, goingAway: 1001, refused: 1008, silent: 4410 } as const;

export const MCP_CONNECT_PATH = "/api/mcp/connect";
export const mcpRelayPath = (id: string) => `/api/mcp/id/${encodeURIComponent(id)}`;

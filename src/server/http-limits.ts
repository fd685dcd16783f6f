import { randomUUID } from "node:crypto";
import { STATUS_CODES, type ServerOptions } from "node:http";
import type { Duplex } from "node:stream";
import type { Config } from "../config/index.js";
import { errorBody, errorShapeOf, FlotillaError, type ErrorCode } from "../kernel/index.js";
import { withoutGatewayPrefix } from "./base-paths.js";

type Limits = Readonly<Config["limits"]>;

/** How often Node looks for requests past their headers or request timeout (its own default is 30 s). */
const TIMEOUT_CHECK_MS = 1000;

/** Node's own limits on what a client sends, for every listener the gateway opens. */
export function httpServerOptions(limits: Limits): ServerOptions {
  return {
    maxHeaderSize: limits.header_bytes,
    headersTimeout: limits.request_timeout_ms > 0 ? Math.min(limits.headers_timeout_ms, limits.request_timeout_ms) : limits.headers_timeout_ms,
    requestTimeout: limits.request_timeout_ms,
    connectionsCheckingInterval: Math.min(TIMEOUT_CHECK_MS, limits.headers_timeout_ms),
  };
}

const CLIENT_ERRORS: Record<string, [ErrorCode, string]> = {
  HPE_HEADER_OVERFLOW: ["header_too_large", "the request line and headers are over the limit (limits.header_bytes)"],
  ERR_HTTP_REQUEST_TIMEOUT: ["request_timeout", "the request did not arrive in time (limits.headers_timeout_ms, limits.request_timeout_ms)"],
};

/**
 * What Node refuses before any route sees the request (headers too large,
 * too slow, not HTTP) answered in Flotilla's error shape: the shape of the
 * path the request line named, when it got that far, else Ollama's.
 */
export function clientErrorHandler(err: NodeJS.ErrnoException, socket: Duplex): void {
  if (err.code === "ECONNRESET" || socket.destroyed) return;
  if (socket.writable) {
    const [code, message] = CLIENT_ERRORS[err.code ?? ""] ?? ["invalid_request", "the request is not valid HTTP/1.1"];
    const failure = new FlotillaError(code, message);
    const requestId = `req_${randomUUID().replace(/-/g, "")}`;
    const path = requestPath((err as { rawPacket?: Buffer }).rawPacket) ?? (socket as PendingSocket)._httpMessage?.req?.url;
    const body = JSON.stringify(errorBody(path === undefined ? "ollama" : errorShapeOf(withoutGatewayPrefix(path)), failure, requestId));
    socket.write(
      `HTTP/1.1 ${failure.status} ${STATUS_CODES[failure.status]}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nx-request-id: ${requestId}\r\nconnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}

/** A socket whose request Node had already handed on (its headers came whole) when the error came. */
type PendingSocket = Duplex & { _httpMessage?: { req?: { url?: string } } };

/** The path of the request line at the start of what the client sent, if it is there. */
function requestPath(raw: Buffer | undefined): string | undefined {
  if (!raw) return undefined;
  return /^[A-Z]+ (\S+) HTTP\/1\.[01]\r?\n/.exec(raw.subarray(0, 8192).toString("latin1"))?.[1];
}

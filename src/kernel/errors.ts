/**
 * One error class and one registry of codes. Handlers throw a FlotillaError;
 * the error handler (server/error-handler.ts) formats it for the surface.
 * The wire never sees `cause` or a stack.
 */

export interface ErrorSpec {
  status: number;
  /** OpenAI-style error type for /v1 responses. */
  type: string;
}

export const ERROR_CODES = {
  invalid_json: { status: 400, type: "invalid_request_error" },
  invalid_request: { status: 400, type: "invalid_request_error" },
  missing_model: { status: 400, type: "invalid_request_error" },
  unsupported_operation: { status: 400, type: "invalid_request_error" },
  unauthorized: { status: 401, type: "authentication_error" },
  invalid_token: { status: 401, type: "authentication_error" },
  invalid_credentials: { status: 401, type: "authentication_error" },
  forbidden: { status: 403, type: "permission_error" },
  route_not_found: { status: 404, type: "invalid_request_error" },
  not_found: { status: 404, type: "invalid_request_error" },
  model_not_found: { status: 404, type: "invalid_request_error" },
  server_not_found: { status: 404, type: "invalid_request_error" },
  method_not_allowed: { status: 405, type: "invalid_request_error" },
  request_timeout: { status: 408, type: "invalid_request_error" },
  conflict: { status: 409, type: "invalid_request_error" },
  payload_too_large: { status: 413, type: "invalid_request_error" },
  upgrade_required: { status: 426, type: "invalid_request_error" },
  user_not_found: { status: 404, type: "invalid_request_error" },
  rate_limited: { status: 429, type: "rate_limit_error" },
  relay_not_found: { status: 404, type: "invalid_request_error" },
  relay_refused: { status: 401, type: "authentication_error" },
  relay_busy: { status: 429, type: "rate_limit_error" },
  relay_unavailable: { status: 503, type: "server_error" },
  relay_answer_too_large: { status: 502, type: "server_error" },
  relay_timeout: { status: 504, type: "server_error" },
  header_too_large: { status: 431, type: "invalid_request_error" },
  internal_error: { status: 500, type: "server_error" },
  upstream_error: { status: 502, type: "server_error" },
  upstream_unreachable: { status: 502, type: "server_error" },
  no_server_available: { status: 503, type: "server_error" },
  queue_full: { status: 503, type: "server_error" },
  queue_timeout: { status: 503, type: "server_error" },
  shutting_down: { status: 503, type: "server_error" },
  store_unavailable: { status: 503, type: "server_error" },
  upstream_timeout: { status: 504, type: "server_error" },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface ErrorOptions {
  param?: string;
  cause?: unknown;
  retryable?: boolean;
  /** Extra response headers, e.g. Retry-After. */
  headers?: Record<string, string>;
  /** Overrides the registry status (an upstream 4xx passed on as is). */
  status?: number;
}

export class FlotillaError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly type: string;
  readonly param?: string;
  readonly retryable: boolean;
  readonly headers?: Record<string, string>;

  constructor(code: ErrorCode, message: string, options: ErrorOptions = {}) {
    super(bounded(message), options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "FlotillaError";
    this.code = code;
    this.status = options.status ?? ERROR_CODES[code].status;
    this.type = ERROR_CODES[code].type;
    this.param = options.param;
    this.retryable = options.retryable ?? false;
    this.headers = options.headers;
  }
}

/** Messages quote what was sent (a model name, a URL); a megabyte of it must not come back. */
const MAX_MESSAGE_CHARS = 1000;
const KEEP_HEAD_CHARS = 600;
const KEEP_TAIL_CHARS = 200;

/** A message cut to a few hundred characters at each end when it is long, so what it says after the quote still reads. */
function bounded(message: string): string {
  if (message.length <= MAX_MESSAGE_CHARS) return message;
  const cut = message.length - KEEP_HEAD_CHARS - KEEP_TAIL_CHARS;
  return `${message.slice(0, KEEP_HEAD_CHARS)}… (${cut} characters cut) …${message.slice(-KEEP_TAIL_CHARS)}`;
}

export function isFlotillaError(err: unknown): err is FlotillaError {
  return err instanceof FlotillaError;
}

export type Surface = "openai" | "ollama";
/** How an error answer is shaped: a surface's, or JSON-RPC 2.0's on the MCP endpoints. */
export type ErrorShape = Surface | "jsonrpc";

/** `/v1/*` and `/api/v1/*` speak OpenAI; everything else speaks Ollama's shape. */
export function surfaceOf(url: string): Surface {
  return url.startsWith("/v1/") || url.startsWith("/api/v1/") || url === "/v1" ? "openai" : "ollama";
}

/** MCP's JSON-RPC endpoints (seed 000's `/api/mcp/id/{id}`, the aggregate `/mcp`, Jan's `/v1/mcp` and `/v1/mcp/tools/*`) answer errors as JSON-RPC does. */
export function errorShapeOf(url: string): ErrorShape {
  const path = url.split("?", 1)[0];
  if (path.startsWith("/api/mcp/id/") || path === "/mcp" || path.startsWith("/mcp/") || path === "/v1/mcp" || path.startsWith("/v1/mcp/")) return "jsonrpc";
  return surfaceOf(url);
}

export interface OpenAIErrorBody {
  error: { message: string; type: string; code: string; param: string | null; request_id: string };
}

export interface OllamaErrorBody {
  error: string;
  code: string;
  request_id: string;
  timestamp: string;
}

/** `data.mcp` carries nfrx's code, which its MCP clients read; `data.code` Flotilla's. */
export interface JsonRpcErrorBody {
  jsonrpc: "2.0";
  id: string | number | null;
  error: { code: number; message: string; data: { code: string; mcp?: string; request_id: string } };
}

/** JSON-RPC's own codes where one fits; -32000 (a server error) otherwise, as nfrx answers. */
const JSONRPC_CODES: Partial<Record<ErrorCode, number>> = { invalid_json: -32700, invalid_request: -32600, route_not_found: -32601 };

const NFRX_CODES: Partial<Record<ErrorCode, string>> = {
  invalid_json: "MCP_SCHEMA_ERROR",
  invalid_request: "MCP_SCHEMA_ERROR",
  relay_not_found: "MCP_PROVIDER_UNAVAILABLE",
  relay_unavailable: "MCP_PROVIDER_UNAVAILABLE",
  relay_refused: "MCP_UNAUTHORIZED",
  relay_busy: "MCP_LIMIT_EXCEEDED",
  payload_too_large: "MCP_LIMIT_EXCEEDED",
  relay_answer_too_large: "MCP_LIMIT_EXCEEDED",
  relay_timeout: "MCP_TIMEOUT",
};

export function errorBody(shape: ErrorShape, err: FlotillaError, requestId: string, rpcId: string | number | null = null): OpenAIErrorBody | OllamaErrorBody | JsonRpcErrorBody {
  if (shape === "openai") {
    return {
      error: { message: err.message, type: err.type, code: err.code, param: err.param ?? null, request_id: requestId },
    };
  }
  if (shape === "jsonrpc") {
    const mcp = NFRX_CODES[err.code];
    return {
      jsonrpc: "2.0",
      id: rpcId,
      error: { code: JSONRPC_CODES[err.code] ?? -32000, message: err.message, data: { code: err.code, ...(mcp ? { mcp } : {}), request_id: requestId } },
    };
  }
  return { error: err.message, code: err.code, request_id: requestId, timestamp: new Date().toISOString() };
}

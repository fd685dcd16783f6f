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
  request_timeout: { status: 408, type: "invalid_request_error" },
  conflict: { status: 409, type: "invalid_request_error" },
  payload_too_large: { status: 413, type: "invalid_request_error" },
  upgrade_required: { status: 426, type: "invalid_request_error" },
  user_not_found: { status: 404, type: "invalid_request_error" },
  rate_limited: { status: 429, type: "rate_limit_error" },
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
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "FlotillaError";
    this.code = code;
    this.status = options.status ?? ERROR_CODES[code].status;
    this.type = ERROR_CODES[code].type;
    this.param = options.param;
    this.retryable = options.retryable ?? false;
    this.headers = options.headers;
  }
}

export function isFlotillaError(err: unknown): err is FlotillaError {
  return err instanceof FlotillaError;
}

export type Surface = "openai" | "ollama";

/** `/v1/*` and `/api/v1/*` speak OpenAI; everything else speaks Ollama's shape. */
export function surfaceOf(url: string): Surface {
  return url.startsWith("/v1/") || url.startsWith("/api/v1/") || url === "/v1" ? "openai" : "ollama";
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

export function errorBody(surface: Surface, err: FlotillaError, requestId: string): OpenAIErrorBody | OllamaErrorBody {
  if (surface === "openai") {
    return {
      error: { message: err.message, type: err.type, code: err.code, param: err.param ?? null, request_id: requestId },
    };
  }
  return { error: err.message, code: err.code, request_id: requestId, timestamp: new Date().toISOString() };
}

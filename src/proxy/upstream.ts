import { FlotillaError } from "../kernel/index.js";
import { isConnectFailure, type ServerNode, type UpstreamResponse } from "../fleet/index.js";
import { upstreamErrorMessage } from "./translate/index.js";

export type { UpstreamResponse } from "../fleet/index.js";

export interface UpstreamCall {
  method: "GET" | "POST" | "DELETE" | "HEAD";
  path: string;
  body?: string | Buffer | NodeJS.ReadableStream;
  contentType?: string;
  requestId: string;
  signal?: AbortSignal;
  /** Time allowed for the response head, and between body chunks unless idleTimeoutMs says otherwise. */
  timeoutMs: number;
  idleTimeoutMs?: number;
}

/** Sends one request to one server; failures before the response head become retryable FlotillaErrors. */
export async function callUpstream(node: ServerNode, call: UpstreamCall): Promise<UpstreamResponse> {
  const headers: Record<string, string> = { "x-request-id": call.requestId };
  if (call.body !== undefined) headers["content-type"] = call.contentType ?? "application/json";
  if (node.spec.api_key) headers.authorization = `Bearer ${node.spec.api_key}`;
  try {
    return await node.transport.request({
      path: call.path,
      method: call.method,
      headers,
      body: call.body,
      signal: call.signal,
      timeoutMs: call.timeoutMs,
      idleTimeoutMs: call.idleTimeoutMs,
    });
  } catch (err) {
    throw upstreamFailure(node, err);
  }
}

export function upstreamFailure(node: ServerNode, err: unknown): FlotillaError {
  if (err instanceof FlotillaError) return err;
  const code = (err as NodeJS.ErrnoException).code ?? "";
  const cause = (err as { cause?: NodeJS.ErrnoException }).cause;
  if (code === "UND_ERR_HEADERS_TIMEOUT" || code === "UND_ERR_BODY_TIMEOUT") {
    return new FlotillaError("upstream_timeout", `server ${node.name} sent nothing in time`, { cause: err, retryable: true });
  }
  const reason = cause?.code ?? code;
  if (isConnectFailure(err)) {
    return new FlotillaError("upstream_unreachable", `server ${node.name} is unreachable (${reason})`, {
      cause: err,
      retryable: true,
    });
  }
  return new FlotillaError("upstream_error", `server ${node.name} failed: ${(err as Error).message ?? String(err)}`, {
    cause: err,
    retryable: true,
  });
}

/**
 * An upstream error status as an error for the client. 404 and 5xx are
 * retryable for reads; other 4xx are the client's own mistake, passed on.
 */
export async function upstreamStatusError(node: ServerNode, res: UpstreamResponse): Promise<FlotillaError> {
  const message = upstreamErrorMessage(await res.body.text());
  const status = res.statusCode;
  if (status === 404) {
    return new FlotillaError("model_not_found", `server ${node.name}: ${message}`, { retryable: true, param: "model" });
  }
  if (status >= 500) {
    return new FlotillaError("upstream_error", `server ${node.name} answered ${status}: ${message}`, { retryable: true });
  }
  return new FlotillaError("invalid_request", `server ${node.name}: ${message}`, { status });
}

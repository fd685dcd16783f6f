import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { errorBody, errorShapeOf, FlotillaError, isFlotillaError, type ErrorCode } from "../kernel/index.js";

/** The longest path parameter the router takes (Fastify's own default is 100: too short for some model names). */
export const MAX_PARAM_LENGTH = 512;

interface ValidationIssue {
  instancePath: string;
  message?: string;
  params?: Record<string, unknown>;
}

/** Handlers throw; this formats every error in the surface's shape. */
export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, req, reply) => {
    const err = toFlotillaError(error);
    if (err.status >= 500 && !isFlotillaError(error)) req.log.error({ err: error }, "unhandled error");
    sendError(req, reply, err);
  });

  app.setNotFoundHandler((req, reply) => {
    sendError(req, reply, new FlotillaError("route_not_found", `no route for ${req.method} ${req.url.split("?")[0]}`));
  });
}

/** Errors Fastify's router raises before any route runs (a path that does not decode, a parameter too long), in the surface's shape. */
export function frameworkError(error: FastifyError, req: FastifyRequest, reply: FastifyReply): void {
  const message = error.code === "FST_ERR_MAX_PARAM_LENGTH" ? `a path parameter is over ${MAX_PARAM_LENGTH} characters` : "the path is not valid percent-encoding (UTF-8)";
  // These come before the onRequest hooks, which would have set the header.
  void reply.header("x-request-id", req.id);
  sendError(req, reply, new FlotillaError("invalid_request", message, { status: error.statusCode ?? 400, cause: error }));
}

export function sendError(req: FastifyRequest, reply: FastifyReply, err: FlotillaError): void {
  // Fastify asks to close the connection after any body parser error. The rest of a
  // refused body is still read (body.ts, or Node), so it may stay open; closing it with
  // bytes unread would reset it, and the client could lose the answer. An error that
  // means to close says so in its own headers.
  void reply.removeHeader("connection");
  if (err.headers) void reply.headers(err.headers);
  void reply.code(err.status).type("application/json").send(errorBody(errorShapeOf(req.url), err, String(req.id)));
}

const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: "payload_too_large",
  FST_ERR_CTP_INVALID_MEDIA_TYPE: "invalid_request",
  FST_ERR_CTP_EMPTY_JSON_BODY: "invalid_json",
  FST_ERR_CTP_INVALID_JSON_BODY: "invalid_json",
};

export function toFlotillaError(error: FastifyError | Error): FlotillaError {
  if (isFlotillaError(error)) return error;
  const fastify = error as FastifyError;
  if (fastify.validation) return fromValidation(fastify.validation as ValidationIssue[], fastify.validationContext);
  // Work stopped because its caller went away (or a call inside it was cut): nobody is left to answer, and nothing failed.
  if (fastify.name === "AbortError") return new FlotillaError("request_timeout", "the request was stopped before it was answered", { cause: error });
  const code = fastify.code ? FASTIFY_CODES[fastify.code] : undefined;
  if (code) return new FlotillaError(code, fastify.message, { cause: error });
  if (fastify.statusCode && fastify.statusCode >= 400 && fastify.statusCode < 500) {
    return new FlotillaError("invalid_request", fastify.message, { status: fastify.statusCode, cause: error });
  }
  return new FlotillaError("internal_error", "internal error", { cause: error });
}

function fromValidation(issues: ValidationIssue[], context: string | undefined): FlotillaError {
  const issue = issues[0];
  const missing = issue.params?.missingProperty;
  const path = fieldName(issue.instancePath, typeof missing === "string" ? missing : undefined);
  const where = context && context !== "body" ? `${context} ` : "";
  const code: ErrorCode = missing === "model" && !issue.instancePath ? "missing_model" : "invalid_request";
  const message = missing
    ? `${where}field "${path}" is required`
    : `${where}field "${path || "(body)"}" ${issue.message ?? "is invalid"}${allowed(issue)}`;
  return new FlotillaError(code, message, { param: path || undefined });
}

/** An enum's choices, for the message: `must be equal to one of the allowed values: system, user`. */
function allowed(issue: ValidationIssue): string {
  const values = issue.params?.allowedValues;
  return Array.isArray(values) ? `: ${values.join(", ")}` : "";
}

/** `/messages/0/role` + `content` → `messages[0].role.content` */
function fieldName(pointer: string, missing: string | undefined): string {
  const parts = pointer.split("/").filter(Boolean);
  if (missing) parts.push(missing);
  return parts.reduce((name, part) => (/^\d+$/.test(part) ? `${name}[${part}]` : name ? `${name}.${part}` : part), "");
}

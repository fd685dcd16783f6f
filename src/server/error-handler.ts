import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { errorBody, FlotillaError, isFlotillaError, surfaceOf, type ErrorCode } from "./errors.js";

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

export function sendError(req: FastifyRequest, reply: FastifyReply, err: FlotillaError): void {
  if (err.headers) void reply.headers(err.headers);
  void reply.code(err.status).type("application/json").send(errorBody(surfaceOf(req.url), err, String(req.id)));
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
    : `${where}field "${path || "(body)"}" ${issue.message ?? "is invalid"}`;
  return new FlotillaError(code, message, { param: path || undefined });
}

/** `/messages/0/role` + `content` → `messages[0].role.content` */
function fieldName(pointer: string, missing: string | undefined): string {
  const parts = pointer.split("/").filter(Boolean);
  if (missing) parts.push(missing);
  return parts.reduce((name, part) => (/^\d+$/.test(part) ? `${name}[${part}]` : name ? `${name}.${part}` : part), "");
}

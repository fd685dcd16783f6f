import { createHash } from "node:crypto";
import type { FastifyReply, FastifyRequest } from "fastify";
import { callerOf, surfaceOf } from "../kernel/index.js";
import type { CallContext } from "./context.js";

const SESSION_PREFIX_CHARS = 2000;

export function callContext(req: FastifyRequest, reply: FastifyReply, body?: Record<string, unknown>): CallContext {
  const h = req.headers;
  return {
    requestId: String(req.id),
    surface: surfaceOf(req.url),
    keyId: req.principal?.keyId,
    userId: req.principal?.userId,
    caller: callerOf(req.principal, req.ip),
    source: header(h["x-ollama-source"]),
    pin: header(h["x-ollama-pin-server"]),
    session: header(h["x-session-id"]) ?? (body ? conversationKey(body) : undefined),
    priority: header(h["x-flotilla-priority"]) === "batch" ? "batch" : "interactive",
    method: req.method,
    startedAt: performance.now() - reply.elapsedTime,
  };
}

function header(value: string | string[] | undefined): string | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  return v ? v : undefined;
}

/**
 * Requests of one conversation share their first messages; hashing them (with
 * the model) finds the server whose prompt cache already holds them.
 */
export function conversationKey(body: Record<string, unknown>): string | undefined {
  const messages = body.messages;
  if (!Array.isArray(messages) || messages.length === 0) return undefined;
  const hash = createHash("sha1").update(String(body.model));
  for (const message of messages.slice(0, 2)) {
    const m = message as { role?: unknown; content?: unknown };
    const content = typeof m.content === "string" ? m.content : JSON.stringify(m.content ?? "");
    hash.update(`\0${String(m.role)}\0${content.slice(0, SESSION_PREFIX_CHARS)}`);
  }
  return hash.digest("base64url");
}

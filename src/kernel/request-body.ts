import type { FastifyReply, FastifyRequest } from "fastify";

/**
 * How large a route's body may be, by what it carries: `json` (the default:
 * admin, account and fleet routes), `inference` (chats with images, embedding
 * batches, queued tasks) or `upload` (model blobs, streamed). The sizes are
 * configuration (`limits.*_body_bytes`).
 */
export type BodyClass = "json" | "inference" | "upload";

declare module "fastify" {
  interface FastifyContextConfig {
    /** The route's body limit class; `json` when absent. */
    body?: BodyClass;
  }
  interface FastifyRequest {
    /** The request body's bytes, kept so a pass-through request is forwarded without re-serializing. */
    rawBody?: Buffer;
  }
}

/** For routes whose JSON body may be left out: a request without one is validated as `{}`. */
export function bodyMayBeOmitted(req: FastifyRequest, _reply: FastifyReply, done: (err?: Error) => void): void {
  req.body ??= {};
  done();
}

/** Aborts when the caller goes away before its answer is written, so what it started is stopped. `release` once answered. */
export function callerGone(reply: FastifyReply): { signal: AbortSignal; release(): void } {
  const abort = new AbortController();
  const onClose = () => {
    if (!reply.raw.writableFinished) abort.abort();
  };
  reply.raw.once("close", onClose);
  return { signal: abort.signal, release: () => reply.raw.off("close", onClose) };
}

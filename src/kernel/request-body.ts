import type { FastifyReply, FastifyRequest } from "fastify";

declare module "fastify" {
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

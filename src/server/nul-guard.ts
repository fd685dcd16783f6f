import type { FastifyInstance } from "fastify";
import { FlotillaError } from "../kernel/index.js";

/**
 * No text Flotilla takes may hold a NUL character (U+0000): PostgreSQL cannot
 * store one, so the same name or id would work on SQLite and fail on
 * PostgreSQL. Path parameters, query values and JSON bodies are checked.
 */
export function registerNulGuard(app: FastifyInstance): void {
  app.addHook("preValidation", function refuseNul(req, _reply, done) {
    const where = nulIn(req.params, "path parameter") ?? nulIn(req.query, "query parameter");
    done(where ? new FlotillaError("invalid_request", `${where.what} "${where.name}" holds a NUL character (\\u0000)`, { param: where.name }) : undefined);
  });
}

function nulIn(values: unknown, what: string): { name: string; what: string } | undefined {
  if (values === null || typeof values !== "object") return undefined;
  for (const [name, value] of Object.entries(values)) {
    const texts: unknown[] = Array.isArray(value) ? value : [value];
    if (texts.some((t) => typeof t === "string" && t.includes("\u0000"))) return { name, what };
  }
  return undefined;
}

/** The JSON escape of NUL: a body whose bytes lack it holds no NUL (JSON cannot carry a raw one in a string). */
const NUL_ESCAPE = Buffer.from("\\u0000");

/** Whether a parsed JSON body holds a NUL in a string or a key; the raw bytes are searched first, so most bodies are never walked. */
export function bodyHoldsNul(raw: Buffer, value: unknown): boolean {
  if (raw.indexOf(NUL_ESCAPE) === -1) return false;
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const node = stack.pop();
    if (typeof node === "string") {
      if (node.includes("\u0000")) return true;
    } else if (Array.isArray(node)) {
      for (const child of node) stack.push(child);
    } else if (node !== null && typeof node === "object") {
      for (const [key, child] of Object.entries(node)) {
        if (key.includes("\u0000")) return true;
        stack.push(child);
      }
    }
  }
  return false;
}

import { once } from "node:events";
import type { ServerResponse } from "node:http";

/** Waits until the client reads what was written, or goes away; a client that reads nothing for `idleMs` is cut off. */
export async function waitForDrain(res: ServerResponse, idleMs: number): Promise<void> {
  if (res.destroyed) throw new Error("client went away");
  const ac = new AbortController();
  const timer = setTimeout(() => res.destroy(new Error(`the client read nothing for ${idleMs} ms`)), idleMs);
  try {
    await Promise.race([once(res, "drain", { signal: ac.signal }), once(res, "close", { signal: ac.signal })]);
  } finally {
    clearTimeout(timer);
    ac.abort();
  }
  if (res.destroyed) throw new Error("client went away");
}

/** An error line in the stream's own format: an SSE event or an NDJSON line. */
export function streamError(contentType: string | undefined, message: string): string {
  if (contentType?.includes("text/event-stream")) {
    return `data: ${JSON.stringify({ error: { message, type: "server_error", code: "upstream_error" } })}\n\n`;
  }
  return `${JSON.stringify({ error: message })}\n`;
}

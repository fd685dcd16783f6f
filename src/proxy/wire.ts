import { once } from "node:events";
import type { ServerResponse } from "node:http";

/** Waits until the client reads what was written, or goes away. */
export async function waitForDrain(res: ServerResponse): Promise<void> {
  if (res.destroyed) throw new Error("client went away");
  const ac = new AbortController();
  try {
    await Promise.race([once(res, "drain", { signal: ac.signal }), once(res, "close", { signal: ac.signal })]);
  } finally {
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

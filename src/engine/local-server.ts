import type { LoadedEntry, ModelEntry } from "../fleet/index.js";

/**
 * Something that answers an inference server's HTTP API in process, without
 * a socket: the embedded llama.cpp engine, or a worker agent's relay to the
 * server beside it. The gateway's built-in node and the worker agent both
 * drive one through this interface.
 */
export interface LocalServer {
  /** The API its paths and bodies follow. */
  readonly api: "ollama" | "openai";
  handle(request: LocalRequest): Promise<LocalResponse>;
  /** What it has now, for heartbeats and the fleet's view. */
  inventory(): Promise<Inventory>;
  close(): Promise<void>;
}

export interface LocalRequest {
  method: "GET" | "POST" | "DELETE" | "HEAD";
  /** Path and query, as on the wire: `/api/chat`. */
  path: string;
  body?: Buffer;
  contentType?: string;
  /** Aborted when the client goes away: generation stops. */
  signal: AbortSignal;
}

export interface LocalResponse {
  status: number;
  headers: Record<string, string>;
  /**
   * Pulled by the caller, so a slow reader slows the producer. Ending the
   * iteration early (break/return) stops the work behind it.
   */
  body: AsyncIterable<Buffer>;
}

export interface Inventory {
  available: ModelEntry[];
  loaded: LoadedEntry[];
}

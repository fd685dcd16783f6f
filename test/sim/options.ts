/** What a simulated inference server is, and how it answers. */
export interface SimOptions {
  kind: "ollama" | "openai";
  /** Present on disk (Ollama: /api/tags) or served (OpenAI: /v1/models). Default ["tiny:latest"] for Ollama, ["tiny"] for OpenAI. */
  models?: string[];
  /** Ollama: loaded at start (in /api/ps). */
  loaded?: string[];
  /** Scripted answer tokens; the answer is their concatenation. Default: eight words. */
  tokens?: string[];
  /** Constant delay before the response head. */
  latencyMs?: number;
  /** Delay between streamed chunks; 0 writes them back to back. */
  tokenIntervalMs?: number;
  /** Extra delay on the first request for a model that is not loaded; loading it adds it to /api/ps. */
  coldLoadMs?: number;
  /** Ollama's /api/version. Default "0.12.0". */
  version?: string;
  /** When set, the non-streamed answer is padded to about this many bytes. */
  answerBytes?: number;
  /**
   * Serve the API under this path, as a server behind a reverse proxy does
   * (`/ollama/api/chat`); anything outside it is a 404. `url` then ends with it.
   */
  basePath?: string;
  /** Port to listen on; default 0, any free port. */
  port?: number;
  /** Keep every request in `requests`; default true. The benchmark's long runs turn it off. */
  recordRequests?: boolean;
}

/** One failure injection: it applies to the next `times` requests for `path` (or any path). */
export interface FailOptions {
  path?: string;
  status?: number;
  body?: unknown;
  /** How many matching requests fail; every following one when absent. */
  times?: number;
  /** Accept the request and never answer. */
  hang?: boolean;
  /** Stream this many chunks, then destroy the socket. */
  dropAfterChunks?: number;
  /** Stream this many chunks, then end the response cleanly: the stream's last chunk never comes (a whole body: half of it). */
  endAfterChunks?: number;
  /** Write a line that is not JSON (an SSE `data:` event on an SSE stream) after this many chunks, then go on. */
  garbageAfterChunks?: number;
}

export interface ScriptedToolCall {
  name: string;
  arguments: Record<string, unknown>;
}

export interface RecordedRequest {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  /** The body parsed as JSON when it is JSON, its text when it is not, undefined when empty. */
  body: unknown;
}

export const DEFAULT_TOKENS = ["The", " quick", " brown", " fox", " jumps", " over", " lazy", " dogs."];
export const DEFAULT_OLLAMA_VERSION = "0.12.0";

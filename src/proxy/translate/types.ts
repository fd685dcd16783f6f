export type Api = "ollama" | "openai";

/** The client-facing endpoint, normalised (the `/api/v1/...` alias is already mapped to `/v1/...`). */
export type ClientPath =
  | "/api/chat"
  | "/api/generate"
  | "/api/embed"
  | "/api/embeddings"
  | "/v1/chat/completions"
  | "/v1/completions"
  | "/v1/embeddings";

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
}

export interface TranslateContext {
  requestId: string;
  /** The server that answers: an answer it breaks is reported by its name. */
  server: string;
  /** unix seconds */
  created: number;
  /** The model the answer names: what the client asked for (`tiny`, where the server calls it `tiny:latest`); the request's model when absent. */
  answerModel?: string;
}

export interface StreamTranslator {
  /** Feed raw upstream bytes (chunk boundaries arbitrary: lines/events may be split across chunks); returns client-wire text to write now ("" if none). */
  push(chunk: Buffer): string;
  /** Upstream ended: returns what is left to write (e.g. final chunk, usage chunk, "data: [DONE]\n\n"). */
  end(): string;
  /** Token counts seen so far (set once the upstream reported them). */
  readonly usage: Usage | undefined;
  /** Set once the stream ended with an error line: the server's own error, or what was wrong with its stream. */
  readonly error?: string;
}

export interface ResponseTranslator {
  /** Upstream non-streaming body (parsed JSON, or NotJson) → the client's JSON body; throws BrokenAnswerError for one that is no answer. */
  json(upstream: unknown): unknown;
  stream(): StreamTranslator;
  /** The content type the client gets when streaming: "application/x-ndjson" or "text/event-stream". */
  readonly streamContentType: string;
}

export interface Translation {
  path: string;
  body: Record<string, unknown>;
  stream: boolean;
  response: ResponseTranslator;
}

export type Json = Record<string, unknown>;

/* ---- The neutral form every answer passes through, whichever API it came from. ---- */

export type Finish = "stop" | "length" | "tool_calls";

/** A whole tool call: arguments already parsed into an object. */
export interface ToolCall {
  id?: string;
  name: string;
  arguments: Json;
}

/** A piece of a streamed OpenAI tool call, joined with the others of the same `index`. */
export interface ToolCallFragment {
  index: number;
  id?: string;
  name?: string;
  arguments?: string;
}

/** Server-side timings in nanoseconds, when the server reports them. */
export interface Timings {
  prompt_eval_duration: number;
  eval_duration: number;
}

/** What one upstream frame (NDJSON line, SSE event, or a whole body) says. */
export type AnswerEvent =
  | { type: "text"; content?: string; thinking?: string }
  | { type: "tool_calls"; calls: ToolCall[] }
  | { type: "tool_fragments"; fragments: ToolCallFragment[] }
  | { type: "finish"; reason: string }
  | { type: "usage"; usage: Usage }
  | { type: "timings"; timings: Timings }
  | { type: "error"; message: string }
  /** The server sent something that is not (part of) an answer: what it sent, e.g. "sent a line that is not JSON: …". */
  | { type: "broken"; problem: string }
  | { type: "end" };

/** How the upstream frames are cut and read. */
export interface UpstreamReader {
  framing: "ndjson" | "sse";
  /** One stream frame's payload (parsed JSON, NotJson, or the DONE marker) → what it says. */
  events(payload: unknown): AnswerEvent[];
  /** A whole non-streamed body (parsed JSON, or NotJson) → what it says. */
  whole(payload: unknown): AnswerEvent[];
}

/** The end of an answer, as the client encoder needs it. */
export interface Ending {
  finish: string | undefined;
  usage: Usage | undefined;
  timings: Timings | undefined;
  /** Tool calls were sent to the client. */
  toolCalls: boolean;
}

/** The whole answer, for non-streamed responses. */
export interface Answer extends Ending {
  content: string;
  thinking: string;
  calls: ToolCall[];
}

/** Writes the neutral form in the client's API. Stateless: one writer serves every stream of a translation. */
export interface ClientWriter {
  readonly contentType: string;
  /** The opening frames (e.g. OpenAI's role chunk); "" when none. */
  open(): string;
  text(content: string, thinking: string): string;
  /** Whole tool calls; `first` is how many calls this answer sent before (OpenAI numbers them by `index`). */
  toolCalls(calls: ToolCall[], first: number): string;
  close(ending: Ending): string;
  error(message: string): string;
  whole(answer: Answer): Json;
}

export type Api = "ollama" | "openai";

/** The client-facing endpoint; the `/api/v1/...` alias is mapped to `/v1/...` before translation. */
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
  /** unix seconds */
  created: number;
}

export interface StreamTranslator {
  /** Raw upstream bytes in (any chunk boundaries); client-wire text out ("" when nothing is complete yet). */
  push(chunk: Buffer): string;
  /** The upstream ended: what is left to write. */
  end(): string;
  readonly usage: Usage | undefined;
}

export interface ResponseTranslator {
  json(upstream: unknown): unknown;
  stream(): StreamTranslator;
  readonly streamContentType: string;
}

export interface Translation {
  path: string;
  body: Record<string, unknown>;
  stream: boolean;
  response: ResponseTranslator;
}

export type Json = Record<string, unknown>;

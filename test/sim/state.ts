import type { ServerResponse } from "node:http";

export interface SimOptions {
  kind: "ollama" | "openai";
  models?: string[];
  loaded?: string[];
  tokens?: string[];
  latencyMs?: number;
  tokenIntervalMs?: number;
  version?: string;
  answerBytes?: number;
}

/** Ollama's rule: `llama3` and `llama3:latest` are one model. */
export function modelKey(name: string): string {
  const lower = name.toLowerCase();
  return lower.indexOf(":", lower.lastIndexOf("/") + 1) === -1 ? `${lower}:latest` : lower;
}

/** The models a sim has, what it answers, and how it streams. */
export class SimState {
  readonly models = new Map<string, string>();
  readonly loaded = new Map<string, string>();
  readonly blobs = new Set<string>();
  readonly tokens: string[];
  readonly answer: string;
  /** The non-streamed answer, padded to answerBytes when asked. */
  readonly wholeAnswer: string;
  toolCalls: Array<{ name: string; arguments: Record<string, unknown> }> | undefined;

  constructor(readonly options: SimOptions) {
    this.setModels(options.models ?? [options.kind === "ollama" ? "tiny:latest" : "tiny"]);
    this.setLoaded(options.loaded ?? []);
    this.tokens = options.tokens ?? ["Hello", " there", "!"];
    this.answer = this.tokens.join("");
    this.wholeAnswer = options.answerBytes ? this.answer.padEnd(options.answerBytes, " ") : this.answer;
  }

  setModels(models: string[]): void {
    this.models.clear();
    for (const m of models) this.models.set(modelKey(m), m);
  }

  setLoaded(models: string[]): void {
    this.loaded.clear();
    for (const m of models) this.loaded.set(modelKey(m), m);
  }

  find(name: unknown): string | undefined {
    return typeof name === "string" ? this.models.get(modelKey(name)) : undefined;
  }

  /** Takes the scripted tool calls, once. */
  takeToolCalls(): Array<{ name: string; arguments: Record<string, unknown> }> | undefined {
    const calls = this.toolCalls;
    this.toolCalls = undefined;
    return calls;
  }

  /** Tokens honouring a limit: the answer is cut and the reason is "length". */
  limited(limit: unknown): { tokens: string[]; reason: "stop" | "length" } {
    if (typeof limit === "number" && limit < this.tokens.length) return { tokens: this.tokens.slice(0, limit), reason: "length" };
    return { tokens: this.tokens, reason: "stop" };
  }
}

export function countWords(value: unknown): number {
  if (typeof value === "string") return value.split(/\s+/).filter(Boolean).length;
  if (Array.isArray(value)) return value.reduce((n: number, v) => n + countWords(v), 0);
  if (value && typeof value === "object") return countWords((value as { content?: unknown }).content ?? (value as { text?: unknown }).text);
  return 0;
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = body === undefined ? "" : JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(text) }).end(text);
}

/**
 * Writes chunks back to back (or spaced by tokenIntervalMs), optionally
 * destroying the socket after `dropAfter` of them.
 */
export function streamChunks(res: ServerResponse, type: string, chunks: string[], intervalMs = 0, dropAfter?: number): void {
  res.writeHead(200, { "content-type": type });
  if (!intervalMs && dropAfter === undefined) {
    for (const chunk of chunks) res.write(chunk);
    res.end();
    return;
  }
  let i = 0;
  const next = () => {
    if (res.destroyed) return;
    if (dropAfter !== undefined && i >= dropAfter) {
      res.socket?.destroy();
      return;
    }
    if (i >= chunks.length) {
      res.end();
      return;
    }
    res.write(chunks[i++]);
    setTimeout(next, intervalMs);
  };
  next();
}

/** A deterministic 8-float vector from text: equal texts equal vectors. */
export function vectorOf(text: string): number[] {
  let hash = 2166136261;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 16777619) >>> 0;
  return Array.from({ length: 8 }, (_, i) => (((hash + i * 7919) % 1000) / 1000) - 0.5);
}

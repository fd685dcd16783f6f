import { AnswerScript } from "./answer.js";
import { ModelCatalog } from "./catalog.js";
import { DEFAULT_OLLAMA_VERSION, DEFAULT_TOKENS, type ScriptedToolCall, type SimOptions } from "./options.js";
import type { Later } from "./timers.js";

const MEMO_LIMIT = 1024;

/** Everything a sim's handlers read and change: models, blobs, the scripted answer. */
export class SimState {
  readonly kind: "ollama" | "openai";
  readonly version: string;
  readonly tokenIntervalMs: number;
  readonly answer: AnswerScript;
  readonly catalog: ModelCatalog;
  readonly blobs = new Set<string>();
  private toolCalls: ScriptedToolCall[] | undefined;
  private lastId = 0;
  private readonly memo = new Map<string, string[]>();

  constructor(options: SimOptions, later: Later) {
    this.kind = options.kind;
    this.version = options.version ?? DEFAULT_OLLAMA_VERSION;
    this.tokenIntervalMs = options.tokenIntervalMs ?? 0;
    this.answer = new AnswerScript(options.tokens ?? DEFAULT_TOKENS, options.answerBytes);
    this.catalog = new ModelCatalog(options.kind, options.coldLoadMs ?? 0, later);
    this.catalog.replace(options.models ?? [options.kind === "ollama" ? "tiny:latest" : "tiny"]);
    this.catalog.setLoaded(options.loaded ?? []);
  }

  scriptToolCalls(calls: ScriptedToolCall[]): void {
    this.toolCalls = calls.length ? calls.map((c) => ({ name: c.name, arguments: { ...c.arguments } })) : undefined;
  }

  /** The scripted tool calls, taken once. */
  takeToolCalls(): ScriptedToolCall[] | undefined {
    const calls = this.toolCalls;
    this.toolCalls = undefined;
    return calls;
  }

  /** A short id, new for every call. */
  nextId(): string {
    return (++this.lastId).toString(36);
  }

  /** Bodies that depend only on their key are built once (the benchmark asks the same thing many times). */
  remember(key: string, build: () => string[]): string[] {
    let value = this.memo.get(key);
    if (!value) {
      if (this.memo.size >= MEMO_LIMIT) this.memo.clear();
      value = build();
      this.memo.set(key, value);
    }
    return value;
  }
}

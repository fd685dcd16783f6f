export type StopReason = "stop" | "length";

/** What one answer sends: its tokens, and why it stopped. */
export interface PlannedAnswer {
  tokens: string[];
  reason: StopReason;
}

/** What a sim "thinks" when a request asks for thinking. */
export const THINKING_TOKENS = ["Thinking", " it", " over", "."];

/**
 * The scripted answer: its tokens as streamed, and the whole answer padded
 * to about `answerBytes` when a benchmark asks for a larger body.
 */
export class AnswerScript {
  readonly streamed: string[];
  readonly whole: string[];

  constructor(tokens: string[], answerBytes?: number) {
    this.streamed = tokens;
    this.whole = answerBytes ? padTokens(tokens, answerBytes) : tokens;
  }

  /** The tokens one answer sends, cut to `limit` (stopping for "length") when a numeric limit is below their count. */
  plan(streamed: boolean, limit: unknown): PlannedAnswer {
    const tokens = streamed ? this.streamed : this.whole;
    if (typeof limit === "number" && limit >= 0 && limit < tokens.length) return { tokens: tokens.slice(0, limit), reason: "length" };
    return { tokens, reason: "stop" };
  }
}

/** Repeats the tokens until they reach `bytes`, with a space where one round meets the next. */
function padTokens(tokens: string[], bytes: number): string[] {
  if (tokens.every((t) => t === "")) return tokens;
  const padded: string[] = [];
  let size = 0;
  for (let i = 0; size < bytes; i++) {
    const token = tokens[i % tokens.length];
    const previous = padded.at(-1);
    if (i > 0 && i % tokens.length === 0 && previous && !/\s$/.test(previous) && !/^\s/.test(token)) {
      padded.push(" ");
      size += 1;
    }
    padded.push(token);
    size += Buffer.byteLength(token);
  }
  return padded;
}

/** Words in a prompt: a string, an array of them, chat messages, or content parts. */
export function countWords(value: unknown): number {
  if (typeof value === "string") return value.split(/\s+/).filter(Boolean).length;
  if (Array.isArray(value)) return value.reduce((n: number, v) => n + countWords(v), 0);
  if (value && typeof value === "object") {
    const { content, text } = value as { content?: unknown; text?: unknown };
    return countWords(content ?? text);
  }
  return 0;
}

/** A rough token count for generated structured text, as tokenizers give about four characters a token. */
export function estimateTokens(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4));
}

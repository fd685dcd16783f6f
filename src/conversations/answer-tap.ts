import { DONE, SseFrames, type AnswerTap } from "../proxy/index.js";

/** A tool call the answer asked for, as OpenAI's chat message carries it. */
export interface AnswerToolCall {
  id: string;
  type: "function";
  function: { name: string; arguments: string };
}

/** The assistant's answer, whole, however it arrived (one JSON body or a stream of deltas). */
export interface ChatAnswer {
  id?: string;
  model?: string;
  content: string;
  reasoning?: string;
  toolCalls: AnswerToolCall[];
  finishReason?: string;
  /** False when a stream ended without its finish (the server stopped early). */
  complete: boolean;
}

/** What a stored turn adds to the answer: Jan's conversation metadata. */
export type TurnMetadata = Record<string, unknown>;

type Delta = { content?: unknown; reasoning_content?: unknown; tool_calls?: unknown };
type ToolCallDelta = { index?: number; id?: string; function?: { name?: string; arguments?: string } };

/**
 * Taps a chat completion on its way to the client: collects the answer, and
 * once it is whole has `store` keep the turn, then sends what `store` returns
 * as Jan does — a `metadata` field on a JSON answer, or on a stream a
 * `chat.completion.metadata` event just before `[DONE]`. That event carries an
 * empty `choices` so that OpenAI's clients, which read every event's choices,
 * pass over it. A turn that cannot be stored still reaches the client, and
 * `warn` tells the operator why it was not kept.
 */
export class ChatAnswerTap implements AnswerTap {
  private readonly frames = new SseFrames();
  private readonly answer: ChatAnswer = { content: "", toolCalls: [], complete: false };
  private body = "";

  constructor(
    private readonly streamed: boolean,
    private readonly store: (answer: ChatAnswer) => Promise<TurnMetadata | undefined>,
    private readonly warn: (err: unknown) => void,
    /** How a whole answer carries the metadata: by default as its `metadata` field. */
    private readonly wrap: (completion: Record<string, unknown>, metadata: TurnMetadata) => unknown = (completion, metadata) => ({ ...completion, metadata }),
  ) {}

  push(piece: Buffer | string): string {
    if (!this.streamed) {
      this.body += piece.toString();
      return "";
    }
    let out = "";
    for (const frame of this.frames.push(typeof piece === "string" ? Buffer.from(piece) : piece)) {
      if (frame === DONE) continue;
      this.readChunk(frame);
      out += `data: ${JSON.stringify(frame)}\n\n`;
    }
    return out;
  }

  async finish(): Promise<string> {
    if (!this.streamed) return this.finishBody();
    for (const frame of this.frames.end()) if (frame !== DONE) this.readChunk(frame);
    const metadata = await this.kept();
    const event = metadata ? `data: ${JSON.stringify({ object: "chat.completion.metadata", ...metadata, choices: [] })}\n\n` : "";
    return `${event}data: [DONE]\n\n`;
  }

  private async finishBody(): Promise<string> {
    let parsed: Record<string, unknown>;
    try {
      parsed = JSON.parse(this.body) as Record<string, unknown>;
    } catch {
      return this.body;
    }
    const choice = (parsed.choices as Array<{ message?: Record<string, unknown>; finish_reason?: string }> | undefined)?.[0];
    const message = choice?.message ?? {};
    this.answer.id = typeof parsed.id === "string" ? parsed.id : undefined;
    this.answer.model = typeof parsed.model === "string" ? parsed.model : undefined;
    this.answer.content = textOf(message.content);
    if (typeof message.reasoning_content === "string") this.answer.reasoning = message.reasoning_content;
    if (Array.isArray(message.tool_calls)) this.answer.toolCalls = message.tool_calls as AnswerToolCall[];
    this.answer.finishReason = choice?.finish_reason;
    this.answer.complete = choice !== undefined;
    const metadata = await this.kept();
    return JSON.stringify(metadata ? this.wrap(parsed, metadata) : parsed);
  }

  private async kept(): Promise<TurnMetadata | undefined> {
    try {
      return await this.store(this.answer);
    } catch (err) {
      this.warn(err);
      return undefined;
    }
  }

  private readChunk(frame: unknown): void {
    const chunk = frame as { id?: unknown; model?: unknown; choices?: Array<{ delta?: Delta; finish_reason?: unknown }> };
    if (typeof chunk?.id === "string") this.answer.id ??= chunk.id;
    if (typeof chunk?.model === "string") this.answer.model ??= chunk.model;
    const choice = Array.isArray(chunk?.choices) ? chunk.choices[0] : undefined;
    if (!choice) return;
    const delta = choice.delta ?? {};
    if (typeof delta.content === "string") this.answer.content += delta.content;
    if (typeof delta.reasoning_content === "string") this.answer.reasoning = (this.answer.reasoning ?? "") + delta.reasoning_content;
    if (Array.isArray(delta.tool_calls)) for (const call of delta.tool_calls as ToolCallDelta[]) this.addToolCall(call);
    if (typeof choice.finish_reason === "string") {
      this.answer.finishReason = choice.finish_reason;
      this.answer.complete = true;
    }
  }

  /** Streamed tool calls come in pieces by index: the first names it, later ones add to its arguments. */
  private addToolCall(delta: ToolCallDelta): void {
    const index = typeof delta.index === "number" ? delta.index : this.answer.toolCalls.length;
    const call = (this.answer.toolCalls[index] ??= { id: "", type: "function", function: { name: "", arguments: "" } });
    if (delta.id) call.id = delta.id;
    if (delta.function?.name) call.function.name += delta.function.name;
    if (delta.function?.arguments) call.function.arguments += delta.function.arguments;
  }
}

function textOf(content: unknown): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  return content.map((part) => (typeof (part as { text?: unknown }).text === "string" ? (part as { text: string }).text : "")).join("");
}

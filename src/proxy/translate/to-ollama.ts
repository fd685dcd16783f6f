import { TranslationError } from "./errors.js";
import { LineBuffer, parseLine, sse } from "./lines.js";
import { toOllamaMessages, toOpenAIToolCalls } from "./messages.js";
import { defined, isObject, paramsToOptions, responseFormatToFormat } from "./params.js";
import type { Json, StreamTranslator, TranslateContext, Translation, Usage } from "./types.js";

/** OpenAI clients reaching an Ollama server, through Ollama's native API. */

type Kind = "chat" | "completion";

function options(body: Json): Json | undefined {
  const merged = { ...(isObject(body.options) ? body.options : {}), ...paramsToOptions(body) };
  return Object.keys(merged).length ? merged : undefined;
}

function rejectMany(body: Json): void {
  if (typeof body.n === "number" && body.n > 1) throw new TranslationError("an Ollama server answers one choice per request (n must be 1)", "n");
}

export function chatToOllama(body: Json, ctx: TranslateContext): Translation {
  rejectMany(body);
  const stream = body.stream === true;
  const model = String(body.model);
  const think = body.think ?? body.reasoning_effort;
  return {
    path: "/api/chat",
    stream,
    body: defined({
      model,
      messages: toOllamaMessages((body.messages as unknown[]) ?? []),
      stream,
      tools: body.tools,
      format: responseFormatToFormat(body.response_format),
      options: options(body),
      think,
      keep_alive: body.keep_alive,
    }),
    response: openAIResponse(ctx, model, "chat", includeUsage(body)),
  };
}

/** OpenAI completions are raw text continuation: no chat template. */
export function completionToOllama(body: Json, ctx: TranslateContext): Translation {
  rejectMany(body);
  let prompt = body.prompt;
  if (Array.isArray(prompt)) {
    if (prompt.length !== 1 || typeof prompt[0] !== "string") throw new TranslationError("an Ollama server takes one prompt string per request", "prompt");
    prompt = prompt[0];
  }
  const stream = body.stream === true;
  const model = String(body.model);
  return {
    path: "/api/generate",
    stream,
    body: defined({ model, prompt, suffix: body.suffix, raw: true, stream, options: options(body), keep_alive: body.keep_alive }),
    response: openAIResponse(ctx, model, "completion", includeUsage(body)),
  };
}

export function embeddingsToOllama(body: Json): Translation {
  const input = body.input;
  const strings = typeof input === "string" || (Array.isArray(input) && input.every((x) => typeof x === "string"));
  if (!strings) throw new TranslationError("an Ollama server embeds text, not token arrays", "input");
  const model = String(body.model);
  const base64 = body.encoding_format === "base64";
  return {
    path: "/api/embed",
    stream: false,
    body: defined({ model, input, dimensions: body.dimensions, truncate: true, keep_alive: body.keep_alive, options: isObject(body.options) ? body.options : undefined }),
    response: {
      streamContentType: "application/json",
      json(upstream) {
        const res = upstream as { embeddings?: number[][]; prompt_eval_count?: number };
        const tokens = res.prompt_eval_count ?? 0;
        return {
          object: "list",
          data: (res.embeddings ?? []).map((vector, index) => ({ object: "embedding", index, embedding: base64 ? toBase64(vector) : vector })),
          model,
          usage: { prompt_tokens: tokens, total_tokens: tokens },
        };
      },
      stream: () => {
        throw new TranslationError("embeddings do not stream");
      },
    },
  };
}

function toBase64(vector: number[]): string {
  return Buffer.from(new Float32Array(vector).buffer).toString("base64");
}

function includeUsage(body: Json): boolean {
  return isObject(body.stream_options) && body.stream_options.include_usage === true;
}

function usageOf(line: Json): Usage {
  return { prompt_tokens: Number(line.prompt_eval_count ?? 0), completion_tokens: Number(line.eval_count ?? 0) };
}

const total = (u: Usage) => ({ ...u, total_tokens: u.prompt_tokens + u.completion_tokens });

function finishReason(line: Json, sawTools: boolean): string {
  if (sawTools) return "tool_calls";
  return line.done_reason === "length" ? "length" : "stop";
}

function openAIResponse(ctx: TranslateContext, model: string, kind: Kind, withUsage: boolean) {
  const id = `${kind === "chat" ? "chatcmpl" : "cmpl"}-${ctx.requestId}`;
  return {
    streamContentType: "text/event-stream",
    json(upstream: unknown) {
      const line = upstream as Json;
      const usage = total(usageOf(line));
      if (kind === "completion") {
        const choice = { text: String(line.response ?? ""), index: 0, logprobs: null, finish_reason: finishReason(line, false) };
        return { id, object: "text_completion", created: ctx.created, model, choices: [choice], usage };
      }
      const message = (line.message as Json) ?? {};
      const calls = Array.isArray(message.tool_calls) && message.tool_calls.length ? toOpenAIToolCalls(message.tool_calls as never, 0) : undefined;
      const reply = defined({
        role: "assistant",
        content: calls ? String(message.content ?? "") || null : String(message.content ?? ""),
        reasoning_content: message.thinking || undefined,
        tool_calls: calls?.map(({ index: _index, ...call }) => call),
      });
      return { id, object: "chat.completion", created: ctx.created, model, choices: [{ index: 0, message: reply, finish_reason: finishReason(line, Boolean(calls)) }], usage };
    },
    stream: (): StreamTranslator => new NdjsonToSse(id, ctx.created, model, kind, withUsage),
  };
}

/** Ollama NDJSON lines → OpenAI SSE chunks, ending with the finish chunk, the usage chunk when asked, and [DONE]. */
class NdjsonToSse implements StreamTranslator {
  private readonly lines = new LineBuffer();
  private started = false;
  private ended = false;
  private toolIndex = 0;
  usage: Usage | undefined;

  constructor(
    private readonly id: string,
    private readonly created: number,
    private readonly model: string,
    private readonly kind: Kind,
    private readonly withUsage: boolean,
  ) {}

  push(chunk: Buffer): string {
    return this.lines.push(chunk).map((l) => this.line(l)).join("");
  }

  end(): string {
    const rest = this.lines.end().map((l) => this.line(l)).join("");
    return this.ended ? rest : rest + this.close({});
  }

  private chunk(choices: Json[], extra: Json = {}): string {
    const object = this.kind === "chat" ? "chat.completion.chunk" : "text_completion";
    return sse({ id: this.id, object, created: this.created, model: this.model, choices, ...extra });
  }

  private delta(delta: Json, finish: string | null = null): string {
    if (this.kind === "completion") return this.chunk([{ text: String(delta.content ?? ""), index: 0, logprobs: null, finish_reason: finish }]);
    return this.chunk([{ index: 0, delta, finish_reason: finish }]);
  }

  private line(text: string): string {
    if (this.ended) return "";
    const line = parseLine(text);
    if (!isObject(line)) return "";
    if (line.error !== undefined) {
      this.ended = true;
      return sse({ error: { message: String(line.error), type: "server_error", code: "upstream_error" } });
    }
    let out = "";
    if (!this.started && this.kind === "chat") out += this.delta({ role: "assistant", content: "" });
    this.started = true;
    const message = (line.message as Json) ?? {};
    const content = this.kind === "chat" ? message.content : line.response;
    if (message.thinking) out += this.delta({ reasoning_content: String(message.thinking) });
    if (content) out += this.delta({ content: String(content) });
    if (Array.isArray(message.tool_calls) && message.tool_calls.length) {
      out += this.delta({ tool_calls: toOpenAIToolCalls(message.tool_calls as never, this.toolIndex) });
      this.toolIndex += message.tool_calls.length;
    }
    if (line.done === true) out += this.close(line);
    return out;
  }

  private close(line: Json): string {
    this.ended = true;
    this.usage = usageOf(line);
    let out = this.delta(this.kind === "chat" ? {} : { content: "" }, finishReason(line, this.toolIndex > 0));
    if (this.withUsage) out += this.chunk([], { usage: total(this.usage) });
    return out + "data: [DONE]\n\n";
  }
}

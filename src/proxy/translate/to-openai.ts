import { TranslationError } from "./errors.js";
import { DONE, LineBuffer, ndjson, sseData } from "./lines.js";
import { toOllamaToolCalls, toOpenAIMessages } from "./messages.js";
import { defined, formatToResponseFormat, isObject, optionsToParams } from "./params.js";
import type { Json, StreamTranslator, Translation, Usage } from "./types.js";

/** Ollama clients reaching an OpenAI-compatible server (vLLM, llama.cpp server, …). */

type Field = "message" | "response";
type Source = "chat" | "completion";

const NDJSON = "application/x-ndjson";

function commonParams(body: Json, stream: boolean): Json {
  const think = body.think;
  return defined({
    stream,
    stream_options: stream ? { include_usage: true } : undefined,
    ...optionsToParams(body.options),
    response_format: formatToResponseFormat(body.format),
    reasoning_effort: typeof think === "string" ? think : undefined,
    think,
  });
}

export function chatToOpenAI(body: Json): Translation {
  const stream = body.stream !== false;
  const model = String(body.model);
  return {
    path: "/v1/chat/completions",
    stream,
    body: defined({ model, messages: toOpenAIMessages((body.messages as unknown[]) ?? []), tools: body.tools, ...commonParams(body, stream) }),
    response: ollamaResponse(model, "message", "chat"),
  };
}

/** `raw` generate is a plain completion; otherwise the server applies its chat template to system + prompt. */
export function generateToOpenAI(body: Json): Translation {
  const stream = body.stream !== false;
  const model = String(body.model);
  if (body.raw === true) {
    return {
      path: "/v1/completions",
      stream,
      body: defined({ model, prompt: body.prompt ?? "", suffix: body.suffix, ...commonParams(body, stream) }),
      response: ollamaResponse(model, "response", "completion"),
    };
  }
  const messages = [
    ...(typeof body.system === "string" && body.system ? [{ role: "system", content: body.system }] : []),
    { role: "user", content: body.prompt ?? "", images: body.images },
  ];
  return {
    path: "/v1/chat/completions",
    stream,
    body: defined({ model, messages: toOpenAIMessages(messages), ...commonParams(body, stream) }),
    response: ollamaResponse(model, "response", "chat"),
  };
}

export function embedToOpenAI(body: Json, legacy: boolean): Translation {
  const model = String(body.model);
  const input = legacy ? body.prompt : body.input;
  if (typeof input !== "string" && !Array.isArray(input)) throw new TranslationError("input must be a string or an array of strings", legacy ? "prompt" : "input");
  return {
    path: "/v1/embeddings",
    stream: false,
    body: defined({ model, input, dimensions: body.dimensions }),
    response: {
      streamContentType: "application/json",
      json(upstream) {
        const res = upstream as { data?: Array<{ index: number; embedding: number[] }>; usage?: { prompt_tokens?: number } };
        const vectors = [...(res.data ?? [])].sort((a, b) => a.index - b.index).map((d) => d.embedding);
        if (legacy) return { embedding: vectors[0] ?? [] };
        return { model, embeddings: vectors, total_duration: 0, load_duration: 0, prompt_eval_count: res.usage?.prompt_tokens ?? 0 };
      },
      stream: () => {
        throw new TranslationError("embeddings do not stream");
      },
    },
  };
}

function ollamaResponse(model: string, field: Field, source: Source) {
  return {
    streamContentType: NDJSON,
    json: (upstream: unknown) => wholeAnswer(upstream as Json, model, field, source),
    stream: (): StreamTranslator => new SseToNdjson(model, field, source),
  };
}

function usageOf(body: Json): Usage | undefined {
  const u = body.usage as { prompt_tokens?: number; completion_tokens?: number } | undefined;
  return u ? { prompt_tokens: u.prompt_tokens ?? 0, completion_tokens: u.completion_tokens ?? 0 } : undefined;
}

function finalLine(model: string, field: Field, finish: string | undefined, usage: Usage | undefined, extra: Json = {}): Json {
  return {
    model,
    created_at: new Date().toISOString(),
    ...(field === "message" ? { message: { role: "assistant", content: "", ...extra } } : { response: "", ...extra }),
    done: true,
    done_reason: finish === "length" ? "length" : "stop",
    ...(field === "response" ? { context: [] } : {}),
    total_duration: 0,
    load_duration: 0,
    prompt_eval_count: usage?.prompt_tokens ?? 0,
    prompt_eval_duration: 0,
    eval_count: usage?.completion_tokens ?? 0,
    eval_duration: 0,
  };
}

function wholeAnswer(upstream: Json, model: string, field: Field, source: Source): Json {
  const choice = ((upstream.choices as Json[]) ?? [])[0] ?? {};
  const message = (choice.message as Json) ?? {};
  const content = source === "completion" ? String(choice.text ?? "") : String(message.content ?? "");
  const finish = choice.finish_reason as string | undefined;
  const usage = usageOf(upstream);
  if (field === "response") {
    return { ...finalLine(model, field, finish, usage, defined({ thinking: message.reasoning_content })), response: content };
  }
  const calls = Array.isArray(message.tool_calls) && message.tool_calls.length ? toOllamaToolCalls(message.tool_calls as Json[]) : undefined;
  return {
    ...finalLine(model, field, finish, usage),
    message: defined({ role: "assistant", content, thinking: message.reasoning_content, tool_calls: calls }),
  };
}

/** OpenAI SSE chunks → Ollama NDJSON lines; streamed tool-call fragments are joined and sent whole. */
class SseToNdjson implements StreamTranslator {
  private readonly lines = new LineBuffer();
  private readonly calls = new Map<number, { name: string; args: string }>();
  private finish: string | undefined;
  private ended = false;
  usage: Usage | undefined;

  constructor(
    private readonly model: string,
    private readonly field: Field,
    private readonly source: Source,
  ) {}

  push(chunk: Buffer): string {
    return this.lines.push(chunk).map((l) => this.line(l)).join("");
  }

  end(): string {
    return this.lines.end().map((l) => this.line(l)).join("") + this.close();
  }

  private line(line: string): string {
    if (this.ended) return "";
    const event = sseData(line);
    if (event === DONE) return this.close();
    if (!isObject(event)) return "";
    if (event.error !== undefined) {
      this.ended = true;
      const error = event.error as { message?: string } | string;
      return ndjson({ error: typeof error === "string" ? error : (error.message ?? "upstream error") });
    }
    this.usage = usageOf(event) ?? this.usage;
    const choice = ((event.choices as Json[]) ?? [])[0];
    if (!choice) return "";
    let out = "";
    if (this.source === "completion") {
      if (choice.text) out += this.piece({ content: String(choice.text) });
    } else {
      const delta = (choice.delta as Json) ?? {};
      if (delta.reasoning_content) out += this.piece({ content: "", thinking: String(delta.reasoning_content) });
      if (delta.content) out += this.piece({ content: String(delta.content) });
      for (const call of (delta.tool_calls as Json[] | undefined) ?? []) this.collect(call);
    }
    if (choice.finish_reason) {
      this.finish = String(choice.finish_reason);
      out += this.flushCalls();
    }
    return out;
  }

  private collect(call: Json): void {
    const index = typeof call.index === "number" ? call.index : this.calls.size;
    const fn = (call.function as Json) ?? {};
    const entry = this.calls.get(index) ?? { name: "", args: "" };
    entry.name += String(fn.name ?? "");
    entry.args += String(fn.arguments ?? "");
    this.calls.set(index, entry);
  }

  private flushCalls(): string {
    if (this.calls.size === 0) return "";
    const calls = [...this.calls.entries()]
      .sort(([a], [b]) => a - b)
      .map(([, c]) => ({ function: { name: c.name, arguments: c.args } }));
    this.calls.clear();
    return this.piece({ content: "", tool_calls: toOllamaToolCalls(calls) });
  }

  private piece(message: { content: string; thinking?: string; tool_calls?: unknown[] }): string {
    const base = { model: this.model, created_at: new Date().toISOString() };
    if (this.field === "message") return ndjson({ ...base, message: { role: "assistant", ...message }, done: false });
    return ndjson({ ...base, response: message.content, ...(message.thinking ? { thinking: message.thinking } : {}), done: false });
  }

  private close(): string {
    if (this.ended) return "";
    const out = this.flushCalls();
    this.ended = true;
    return out + ndjson(finalLine(this.model, this.field, this.finish, this.usage));
  }
}

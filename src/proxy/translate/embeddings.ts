import { StringDecoder } from "node:string_decoder";
import { notAnswer } from "./broken.js";
import { BrokenAnswerError, TranslationError } from "./errors.js";
import { frameOf } from "./framing.js";
import type { Json, ResponseTranslator, StreamTranslator, TranslateContext, Translation, Usage } from "./types.js";
import { defined, isObject, numberAt, objectAt } from "./values.js";

/** Ollama `/api/embed` (input) or legacy `/api/embeddings` (prompt, one vector) → an OpenAI server's `/v1/embeddings`. */
export function ollamaEmbedToOpenAI(body: Json, legacy: boolean, ctx: TranslateContext): Translation {
  const model = String(body.model ?? "");
  const param = legacy ? "prompt" : "input";
  const input = body[param];
  const strings = legacy ? typeof input === "string" : typeof input === "string" || (Array.isArray(input) && input.every((x) => typeof x === "string"));
  if (!strings) throw new TranslationError(legacy ? "prompt must be a string" : "input must be a string or an array of strings", param);
  return {
    path: "/v1/embeddings",
    stream: false,
    body: defined({ model, input, dimensions: legacy ? undefined : body.dimensions }),
    response: wholeBody(ctx, "data", "an OpenAI embeddings answer", (res) => {
      const vectors = (Array.isArray(res.data) ? res.data.map(objectAt) : [])
        .sort((a, b) => numberAt(a.index) - numberAt(b.index))
        .map((d) => (typeof d.embedding === "string" ? fromBase64(d.embedding) : d.embedding));
      if (legacy) return { embedding: vectors[0] ?? [] };
      const tokens = numberAt(objectAt(res.usage).prompt_tokens);
      return { model: ctx.answerModel ?? model, embeddings: vectors, total_duration: 0, load_duration: 0, prompt_eval_count: tokens };
    }),
  };
}

/** OpenAI `/v1/embeddings` → an Ollama server's `/api/embed`. Ollama embeds text only; base64 is encoded here. */
export function openAIEmbeddingsToOllama(body: Json, ctx: TranslateContext): Translation {
  const input = body.input;
  if (!(typeof input === "string" || (Array.isArray(input) && input.every((x) => typeof x === "string")))) {
    throw new TranslationError("an Ollama server embeds text, not token arrays", "input");
  }
  const model = String(body.model ?? "");
  const base64 = body.encoding_format === "base64";
  return {
    path: "/api/embed",
    stream: false,
    body: defined({ model, input, dimensions: body.dimensions, keep_alive: body.keep_alive, options: isObject(body.options) ? body.options : undefined }),
    response: wholeBody(ctx, "embeddings", "an Ollama embed answer", (res) => {
      const vectors = Array.isArray(res.embeddings) ? (res.embeddings as number[][]) : [];
      const tokens = numberAt(res.prompt_eval_count);
      return {
        object: "list",
        data: vectors.map((vector, index) => ({ object: "embedding", index, embedding: base64 ? toBase64(vector) : vector })),
        model: ctx.answerModel ?? model,
        usage: { prompt_tokens: tokens, total_tokens: tokens },
      };
    }),
  };
}

/** OpenAI's base64 embedding: the float32 values, little-endian. */
export function toBase64(vector: number[]): string {
  const bytes = Buffer.alloc(vector.length * 4);
  vector.forEach((v, i) => bytes.writeFloatLE(v, i * 4));
  return bytes.toString("base64");
}

export function fromBase64(text: string): number[] {
  const bytes = Buffer.from(text, "base64");
  const out: number[] = [];
  for (let i = 0; i + 4 <= bytes.length; i += 4) out.push(bytes.readFloatLE(i));
  return out;
}

/**
 * Embeddings never stream; should a caller stream anyway, the body is gathered
 * and answered whole at the end. A body without its `vectors` list is no answer.
 */
function wholeBody(ctx: TranslateContext, vectors: string, expected: string, translate: (upstream: Json) => Json): ResponseTranslator {
  const json = (upstream: unknown) => {
    if (!isObject(upstream) || !Array.isArray(upstream[vectors])) {
      throw new BrokenAnswerError(`server ${ctx.server} ${notAnswer("a response body", upstream, expected)}`);
    }
    return translate(upstream);
  };
  return { streamContentType: "application/json", json, stream: () => new GatheredBody(json) };
}

class GatheredBody implements StreamTranslator {
  private readonly decoder = new StringDecoder("utf8");
  private text = "";
  usage: Usage | undefined;

  constructor(private readonly translate: (upstream: unknown) => Json) {}

  push(chunk: Buffer): string {
    this.text += this.decoder.write(chunk);
    return "";
  }

  end(): string {
    const out = this.translate(frameOf(this.text + this.decoder.end()));
    const usage = objectAt(out.usage);
    const prompt = numberAt(usage.prompt_tokens ?? out.prompt_eval_count);
    this.usage = { prompt_tokens: prompt, completion_tokens: 0 };
    return JSON.stringify(out);
  }
}

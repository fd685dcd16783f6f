import { createHash } from "node:crypto";
import { open, stat } from "node:fs/promises";
import { resolveChatWrapper, type ChatWrapper, type Llama, type LlamaContext, type LlamaContextSequence, type LlamaEmbeddingContext, type LlamaModel } from "node-llama-cpp";
import type { LoadedEntry, ModelEntry } from "../fleet/index.js";
import type { ModelFile } from "./model-spec.js";
import { Slots } from "./text-queue.js";

const DEFAULT_CONTEXT = 4096;
const DIGEST_SPAN = 1024 * 1024;

/** llama.cpp's file types, as Ollama names them. */
const QUANTIZATION: Record<number, string> = {
  0: "F32", 1: "F16", 2: "Q4_0", 3: "Q4_1", 7: "Q8_0", 8: "Q5_0", 9: "Q5_1", 10: "Q2_K", 11: "Q3_K_S", 12: "Q3_K_M",
  13: "Q3_K_L", 14: "Q4_K_S", 15: "Q4_K_M", 16: "Q5_K_S", 17: "Q5_K_M", 18: "Q6_K", 32: "BF16",
};

/** One GGUF file loaded: its weights, a context with one sequence per concurrent request, and what Ollama lists of it. */
export class LoadedModel {
  private embedding: Promise<LlamaEmbeddingContext> | undefined;
  private embeddingTurn: Promise<unknown> = Promise.resolve();
  private readonly slots: Slots;
  /** Made once and reused: a disposed sequence returns to the context only later, asynchronously. */
  private readonly idle: LlamaContextSequence[] = [];
  /** Resolved once: matching the model's template against the known ones takes about a second. */
  readonly chatWrapper: ChatWrapper;

  private constructor(
    readonly name: string,
    readonly file: ModelFile,
    readonly model: LlamaModel,
    private readonly context: LlamaContext,
    readonly entry: ModelEntry,
    readonly loadNs: number,
  ) {
    this.chatWrapper = resolveChatWrapper(model);
    this.slots = new Slots(context.totalSequences);
    for (let i = 0; i < context.totalSequences; i++) this.idle.push(context.getSequence());
  }

  /** A sequence of its own for one generation; waits while all are busy. Release clears it for the next. */
  async acquire(signal: AbortSignal): Promise<{ sequence: LlamaContextSequence; release(): Promise<void> }> {
    const free = await this.slots.take(signal);
    const sequence = this.idle.pop() as LlamaContextSequence;
    return {
      sequence,
      release: async () => {
        await sequence.clearHistory();
        this.idle.push(sequence);
        free();
      },
    };
  }

  static async load(llama: Llama, file: ModelFile, options: { maxConcurrency: number; contextSize?: number }): Promise<LoadedModel> {
    const started = process.hrtime.bigint();
    const model = await llama.loadModel({ modelPath: file.path });
    const context = await model.createContext({
      sequences: options.maxConcurrency,
      contextSize: { max: options.contextSize ?? DEFAULT_CONTEXT },
      // One math thread per context: on a small machine more threads fight Node's own.
      threads: 1,
    });
    const info = await stat(file.path);
    const name = file.name.includes(":") ? file.name : `${file.name}:latest`;
    const metadata = model.fileInfo.metadata as { general?: { architecture?: string; file_type?: number } };
    const entry: ModelEntry = {
      name,
      size: info.size,
      digest: await cheapDigest(file.path, info.size),
      modified_at: info.mtime.toISOString(),
      details: {
        format: "gguf",
        family: metadata.general?.architecture ?? "unknown",
        families: [metadata.general?.architecture ?? "unknown"],
        parameter_size: parameterSize(model),
        quantization_level: QUANTIZATION[metadata.general?.file_type ?? -1] ?? "unknown",
      },
    };
    (entry as ModelEntry & { model: string }).model = name;
    const loadNs = Number(process.hrtime.bigint() - started);
    return new LoadedModel(name, file, model, context, entry, loadNs);
  }

  get loadedEntry(): LoadedEntry & Record<string, unknown> {
    return { ...this.entry, model: this.name, size_vram: 0, expires_at: "0001-01-01T00:00:00Z" };
  }

  /** Embeddings one at a time: the embedding context has a single sequence. */
  embed(text: string): Promise<readonly number[]> {
    this.embedding ??= this.model.createEmbeddingContext({ threads: 1 });
    const run = this.embeddingTurn.then(async () => (await (this.embedding as Promise<LlamaEmbeddingContext>)).getEmbeddingFor(text));
    this.embeddingTurn = run.catch(() => undefined);
    return run.then((e) => e.vector);
  }

  async dispose(): Promise<void> {
    if (this.embedding) await (await this.embedding).dispose();
    await this.context.dispose();
    await this.model.dispose();
  }
}

/**
 * Ollama's digest is the sha256 of the whole file; hashing gigabytes at every
 * start is too slow, so this hashes the size and the first and last MiB: it
 * changes whenever the file does in practice, and costs milliseconds.
 */
async function cheapDigest(path: string, size: number): Promise<string> {
  const hash = createHash("sha256").update(String(size));
  const file = await open(path, "r");
  try {
    for (const position of new Set([0, Math.max(0, size - DIGEST_SPAN)])) {
      const buffer = Buffer.alloc(Math.min(DIGEST_SPAN, size));
      const { bytesRead } = await file.read(buffer, 0, buffer.length, position);
      hash.update(buffer.subarray(0, bytesRead));
    }
  } finally {
    await file.close();
  }
  return hash.digest("hex");
}

function parameterSize(model: LlamaModel): string {
  let count = 0;
  for (const tensor of model.fileInfo.tensorInfo ?? []) count += tensor.dimensions.reduce<number>((a, d) => a * Number(d), 1);
  if (count >= 1e9) return `${(count / 1e9).toFixed(1)}B`;
  if (count >= 1e6) return `${(count / 1e6).toFixed(1)}M`;
  return `${Math.round(count / 1e3)}K`;
}

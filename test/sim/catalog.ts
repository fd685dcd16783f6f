import { createHash } from "node:crypto";
import type { Later } from "./timers.js";

export interface ModelDetails {
  parent_model: string;
  format: string;
  family: string;
  families: string[];
  parameter_size: string;
  quantization_level: string;
}

/** A model on the sim's disk, as Ollama describes one. */
export interface ModelEntry {
  /** The name as the server lists it; Ollama's always carries a tag. */
  readonly name: string;
  /** 64 hex digits, without the `sha256:` prefix, as /api/tags shows it. */
  readonly digest: string;
  readonly modifiedAt: string;
  readonly size: number;
  readonly details: ModelDetails;
}

const MODEL_SIZE = 1_000_000_000;

/** Where a name's tag starts, or -1: a colon after the last slash (a registry host may carry a port). */
function tagColon(name: string): number {
  return name.indexOf(":", name.lastIndexOf("/") + 1);
}

/** Ollama's rule: `llama3` is `llama3:latest`. */
export function withTag(name: string): string {
  return tagColon(name) === -1 ? `${name}:latest` : name;
}

export function sha256Hex(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

/** Parameter size and quantization read from the tag (`8b-instruct-q8_0`), as a real manifest would say. */
function detailsOf(name: string): ModelDetails {
  const tag = name.slice(tagColon(name) + 1);
  const size = /(?:^|[-_])(\d+(?:\.\d+)?)b(?=$|[-_])/i.exec(tag);
  const quant = /(?:^|[-_])(q\d(?:_[a-z0-9]+)*|f16|fp16|bf16|f32)(?=$|-)/i.exec(tag);
  return {
    parent_model: "",
    format: "gguf",
    family: "llama",
    families: ["llama"],
    parameter_size: size ? `${size[1]}B` : "1B",
    quantization_level: quant ? quant[1].toUpperCase() : "Q4_K_M",
  };
}

/**
 * The models a sim has on disk and in memory. Ollama names ignore case and
 * a missing tag means `latest`; OpenAI-compatible servers match ids exactly.
 */
export class ModelCatalog {
  private readonly onDisk = new Map<string, ModelEntry>();
  private readonly running = new Map<string, ModelEntry>();
  private readonly loading = new Map<string, Array<(loadNs: number) => void>>();

  constructor(
    private readonly kind: "ollama" | "openai",
    private readonly coldLoadMs: number,
    private readonly later: Later,
  ) {}

  private key(name: string): string {
    return this.kind === "ollama" ? withTag(name).toLowerCase() : name;
  }

  private entry(name: string, digest = sha256Hex(name), modifiedAt = new Date().toISOString()): ModelEntry {
    const listed = this.kind === "ollama" ? withTag(name) : name;
    return { name: listed, digest, modifiedAt, size: MODEL_SIZE, details: detailsOf(listed) };
  }

  /** On disk, most recently modified first (as Ollama lists them); models of one moment keep their order. */
  list(): ModelEntry[] {
    return [...this.onDisk.values()].sort((a, b) => b.modifiedAt.localeCompare(a.modifiedAt));
  }

  find(name: unknown): ModelEntry | undefined {
    return typeof name === "string" && name !== "" ? this.onDisk.get(this.key(name)) : undefined;
  }

  /** Puts a model on disk; a copy shares its source's digest. */
  add(name: string, copyOf?: ModelEntry): ModelEntry {
    return this.put(this.entry(name, copyOf?.digest));
  }

  private put(entry: ModelEntry): ModelEntry {
    this.onDisk.delete(this.key(entry.name));
    this.onDisk.set(this.key(entry.name), entry);
    return entry;
  }

  /** Deletes a model from disk, unloading it too; false when there was none. */
  remove(name: string): boolean {
    this.running.delete(this.key(name));
    return this.onDisk.delete(this.key(name));
  }

  /** Replaces what is on disk; models set together share one timestamp, so they list in the order given. */
  replace(names: string[]): void {
    this.onDisk.clear();
    const now = new Date().toISOString();
    for (const name of names) this.put(this.entry(name, undefined, now));
  }

  loaded(): ModelEntry[] {
    return [...this.running.values()];
  }

  setLoaded(names: string[]): void {
    this.running.clear();
    for (const name of names) this.running.set(this.key(name), this.find(name) ?? this.entry(name));
  }

  unload(model: ModelEntry): void {
    this.running.delete(this.key(model.name));
  }

  /**
   * Calls `ready` once the model is in memory: at once when it is, after
   * coldLoadMs the first time it is not. Requests arriving during a load wait
   * for that same load. `ready` gets the load time in nanoseconds.
   */
  load(model: ModelEntry, ready: (loadNs: number) => void): void {
    const key = this.key(model.name);
    if (this.running.has(key) || !this.coldLoadMs) {
      this.running.set(key, model);
      return ready(0);
    }
    const waiting = this.loading.get(key);
    if (waiting) return void waiting.push(ready);
    this.loading.set(key, [ready]);
    this.later(this.coldLoadMs, () => {
      const waiters = this.loading.get(key) ?? [];
      this.loading.delete(key);
      this.running.set(key, model);
      for (const waiter of waiters) waiter(this.coldLoadMs * 1_000_000);
    });
  }
}

import { onNode, type Fleet, type ServerNode } from "../fleet/index.js";

/** What Ollama's /api/show tells of one model on one node, as the catalog uses it. */
export interface ShowInfo {
  contextLength?: number;
  /** Ollama's capabilities: completion, vision, tools, thinking, embedding, insert, audio. */
  capabilities: string[];
  /** The Modelfile's numeric parameters (temperature, top_p, …), as decimal strings the way Jan's catalog writes them. */
  defaults: Record<string, string>;
  family?: string;
  tokenizer?: string;
  /** When it was read (ms). */
  fetchedAt: number;
}

export interface ShowCacheOptions {
  timeoutMs: number;
  /** Reads at once across the fleet. */
  concurrency: number;
  /** Models-on-nodes remembered at most; past it, new ones are not read. */
  maxEntries: number;
  /** A read that failed is tried again after this long. */
  retryMs: number;
}

interface Pending {
  node: ServerNode;
  key: string;
  name: string;
}

/**
 * Reads /api/show once per model and node, off the request path: nothing is read
 * until the catalog is first asked for (`want`), then what the fleet has is read a
 * few at a time and kept, and models that arrive later are read as polls report them.
 */
export class ShowCache {
  private readonly known = new Map<string, ShowInfo>();
  private readonly failedAt = new Map<string, number>();
  private readonly queue: Pending[] = [];
  private readonly queued = new Set<string>();
  private running = 0;
  private wanted = false;
  private closed = false;

  constructor(
    private readonly fleet: Fleet,
    private readonly options: ShowCacheOptions,
  ) {}

  /** Starts reading (the first call) and queues whatever is not known yet. */
  want(): void {
    if (!this.wanted) {
      this.wanted = true;
      this.fleet.on("change", (node) => this.scan(node));
      this.fleet.on("removed", (name) => this.forget(name));
    }
    for (const node of this.fleet.all()) this.scan(node);
  }

  info(node: string, key: string): ShowInfo | undefined {
    return this.known.get(onNode(node, key));
  }

  close(): void {
    this.closed = true;
    this.queue.length = 0;
  }

  private scan(node: ServerNode): void {
    if (this.closed || !node.up || node.kind !== "ollama") return;
    for (const [key, entry] of node.models) this.enqueue({ node, key, name: entry.name });
  }

  private enqueue(item: Pending): void {
    const id = onNode(item.node.name, item.key);
    if (this.known.has(id) || this.queued.has(id)) return;
    if (this.known.size + this.queued.size >= this.options.maxEntries) return;
    const failed = this.failedAt.get(id);
    if (failed !== undefined && Date.now() - failed < this.options.retryMs) return;
    this.queued.add(id);
    this.queue.push(item);
    this.pump();
  }

  private pump(): void {
    while (this.running < this.options.concurrency && this.queue.length > 0) {
      const item = this.queue.shift() as Pending;
      this.running++;
      void this.read(item).finally(() => {
        this.running--;
        this.queued.delete(onNode(item.node.name, item.key));
        this.pump();
      });
    }
  }

  private async read({ node, key, name }: Pending): Promise<void> {
    const id = onNode(node.name, key);
    try {
      const headers: Record<string, string> = { "content-type": "application/json" };
      if (node.spec.api_key) headers.authorization = `Bearer ${node.spec.api_key}`;
      const signal = AbortSignal.timeout(this.options.timeoutMs);
      const res = await node.transport.request({ method: "POST", path: "/api/show", headers, body: JSON.stringify({ model: name }), timeoutMs: this.options.timeoutMs, signal });
      const text = await res.body.text();
      if (res.statusCode !== 200) throw new Error(`/api/show answered ${res.statusCode}`);
      // A node removed or replaced while its read was under way is not remembered.
      if (this.fleet.get(node.name) === node) this.known.set(id, showInfo(JSON.parse(text) as ShowAnswer, Date.now()));
      this.failedAt.delete(id);
    } catch {
      this.failedAt.set(id, Date.now());
    }
  }

  private forget(name: string): void {
    const prefix = onNode(name, "");
    for (const map of [this.known, this.failedAt]) {
      for (const id of map.keys()) if (id.startsWith(prefix)) map.delete(id);
    }
  }
}

export interface ShowAnswer {
  parameters?: unknown;
  details?: { family?: unknown };
  model_info?: Record<string, unknown>;
  capabilities?: unknown;
}

const MAX_CAPABILITIES = 32;

/** The parts of an /api/show answer the catalog uses; anything of the wrong type is left out. */
export function showInfo(answer: ShowAnswer, fetchedAt: number): ShowInfo {
  const info = answer.model_info ?? {};
  const arch = info["general.architecture"];
  const context = typeof arch === "string" ? info[`${arch}.context_length`] : undefined;
  const capabilities = Array.isArray(answer.capabilities) ? answer.capabilities.filter((c): c is string => typeof c === "string").slice(0, MAX_CAPABILITIES) : [];
  const family = answer.details?.family;
  const tokenizer = info["tokenizer.ggml.model"];
  return {
    contextLength: Number.isSafeInteger(context) && (context as number) > 0 ? (context as number) : undefined,
    capabilities,
    defaults: typeof answer.parameters === "string" ? numericParameters(answer.parameters) : {},
    family: typeof family === "string" && family ? family : undefined,
    tokenizer: typeof tokenizer === "string" && tokenizer ? tokenizer : undefined,
    fetchedAt,
  };
}

const PARAMETER_LINE = /^\s*([a-z_]+)\s+(-?\d+(?:\.\d+)?)\s*$/;
const MAX_PARAMETERS = 64;

/** `temperature 0.7` lines of a Modelfile's PARAMETER block; `stop "…"` and other text values are not defaults Jan carries. */
function numericParameters(text: string): Record<string, string> {
  const defaults: Record<string, string> = {};
  for (const line of text.split("\n").slice(0, MAX_PARAMETERS)) {
    const m = PARAMETER_LINE.exec(line);
    if (m) defaults[m[1]] = m[2];
  }
  return defaults;
}

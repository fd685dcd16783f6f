import type { Fleet } from "./fleet.js";
import type { LoadedEntry, ModelEntry, ServerNode } from "./node.js";

export interface PollerOptions {
  intervalMs: number;
  timeoutMs: number;
  onError?: (node: ServerNode, message: string) => void;
}

interface OllamaTags {
  models?: ModelEntry[];
}
interface OllamaPs {
  models?: LoadedEntry[];
}
interface OpenAIModels {
  data?: Array<{ id: string; created?: number; owned_by?: string }>;
}

/**
 * Asks every server what it has, on an interval and on demand. One failed
 * poll marks a server down; the next good one brings it back.
 */
export class Poller {
  private timer: NodeJS.Timeout | undefined;
  private readonly running = new Map<string, Promise<void>>();

  constructor(
    private readonly fleet: Fleet,
    private readonly options: PollerOptions,
  ) {}

  start(): void {
    void this.pollAll();
    this.timer = setInterval(() => void this.pollAll(), this.options.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  pollAll(): Promise<void> {
    return Promise.all(this.fleet.all().map((n) => this.poll(n))).then(() => undefined);
  }

  /**
   * Polls the servers that are up, for a caller that needs fresh models now;
   * a down server would only make it wait out the poll timeout.
   */
  pollOnline(): Promise<void> {
    return Promise.all(this.fleet.all().filter((n) => n.up).map((n) => this.poll(n))).then(() => undefined);
  }

  /** Polls one node; concurrent callers share the poll in progress. */
  poll(node: ServerNode): Promise<void> {
    const pending = this.running.get(node.name);
    if (pending) return pending;
    const run = this.pollOnce(node).finally(() => this.running.delete(node.name));
    this.running.set(node.name, run);
    return run;
  }

  private async pollOnce(node: ServerNode): Promise<void> {
    const started = performance.now();
    const wasUp = node.up;
    try {
      node.kind ??= await this.probeKind(node);
      if (node.kind === "ollama") await this.pollOllama(node);
      else await this.pollOpenAI(node);
      node.observeLatency(performance.now() - started);
      node.up = true;
      node.lastSeen = Date.now();
      node.lastError = undefined;
    } catch (err) {
      node.up = false;
      node.lastError = describe(err);
      if (wasUp || node.lastSeen === 0) this.options.onError?.(node, node.lastError);
    }
    if (this.fleet.get(node.name) === node) this.fleet.changed(node);
  }

  /** Ollama answers /api/version; anything else that lists /v1/models is OpenAI-compatible. */
  private async probeKind(node: ServerNode): Promise<"ollama" | "openai"> {
    try {
      const version = await this.getJson<{ version?: string }>(node, "/api/version");
      if (typeof version.version === "string") return "ollama";
    } catch {
      // not Ollama: fall through to the OpenAI probe
    }
    await this.getJson<OpenAIModels>(node, "/v1/models");
    return "openai";
  }

  private async pollOllama(node: ServerNode): Promise<void> {
    const [tags, ps, version] = await Promise.all([
      this.getJson<OllamaTags>(node, "/api/tags"),
      this.getJson<OllamaPs>(node, "/api/ps"),
      this.getJson<{ version?: string }>(node, "/api/version"),
    ]);
    node.setModels(tags.models ?? []);
    node.setLoaded(ps.models ?? []);
    node.version = version.version;
  }

  /** An OpenAI-compatible server serves what it lists, so every listed model counts as loaded. */
  private async pollOpenAI(node: ServerNode): Promise<void> {
    const list = await this.getJson<OpenAIModels>(node, "/v1/models");
    const models = (list.data ?? []).map((m) => ({ name: m.id }));
    node.setModels(models);
    node.setLoaded(models);
  }

  private async getJson<T>(node: ServerNode, path: string): Promise<T> {
    const headers: Record<string, string> = {};
    if (node.spec.api_key) headers.authorization = `Bearer ${node.spec.api_key}`;
    const res = await node.pool.request({
      path,
      method: "GET",
      headers,
      headersTimeout: this.options.timeoutMs,
      bodyTimeout: this.options.timeoutMs,
      signal: AbortSignal.timeout(this.options.timeoutMs),
    });
    const text = await res.body.text();
    if (res.statusCode !== 200) throw new Error(`${path} answered ${res.statusCode}`);
    return JSON.parse(text) as T;
  }
}

function describe(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code;
    return code ? `${code}: ${err.message}` : err.message;
  }
  return String(err);
}

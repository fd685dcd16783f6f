import type { LoadedEntry, ModelEntry } from "./node.js";
import type { Transport } from "./transport.js";

export type Api = "ollama" | "openai";

export interface ServerInventory {
  models: ModelEntry[];
  loaded: LoadedEntry[];
  version?: string;
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
 * Reads what an inference server has: the gateway's poller asks each polled
 * server this way, and a worker agent asks the server beside it.
 */
export class InventoryReader {
  constructor(
    private readonly transport: Transport,
    private readonly timeoutMs: number,
    private readonly apiKey?: string,
  ) {}

  /** Ollama answers /api/version; anything else that lists /v1/models is OpenAI-compatible. */
  async probeApi(): Promise<Api> {
    try {
      const version = await this.getJson<{ version?: string }>("/api/version");
      if (typeof version.version === "string") return "ollama";
    } catch {
      // not Ollama: fall through to the OpenAI probe
    }
    await this.getJson<OpenAIModels>("/v1/models");
    return "openai";
  }

  read(api: Api): Promise<ServerInventory> {
    return api === "ollama" ? this.readOllama() : this.readOpenAI();
  }

  private async readOllama(): Promise<ServerInventory> {
    const [tags, ps, version] = await Promise.all([
      this.getJson<OllamaTags>("/api/tags"),
      this.getJson<OllamaPs>("/api/ps"),
      this.getJson<{ version?: string }>("/api/version"),
    ]);
    return { models: tags.models ?? [], loaded: ps.models ?? [], version: version.version };
  }

  /** An OpenAI-compatible server serves what it lists, so every listed model counts as loaded. */
  private async readOpenAI(): Promise<ServerInventory> {
    const list = await this.getJson<OpenAIModels>("/v1/models");
    const models = (list.data ?? []).map((m) => ({ name: m.id }));
    return { models, loaded: models };
  }

  private async getJson<T>(path: string): Promise<T> {
    const headers: Record<string, string> = {};
    if (this.apiKey) headers.authorization = `Bearer ${this.apiKey}`;
    const res = await this.transport.request({
      path,
      method: "GET",
      headers,
      timeoutMs: this.timeoutMs,
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    const text = await res.body.text();
    if (res.statusCode !== 200) throw new Error(`${path} answered ${res.statusCode}`);
    return JSON.parse(text) as T;
  }
}

import { HttpTransport, InventoryReader, type Api } from "../fleet/index.js";
import type { Inventory, LocalRequest, LocalResponse, LocalServer } from "../engine/local-server.js";

const INVENTORY_TIMEOUT_MS = 2500;

/** A worker agent's view of the inference server beside it (Ollama, vLLM, llama.cpp server). */
export class UpstreamRelay implements LocalServer {
  private readonly reader: InventoryReader;

  private constructor(
    private readonly transport: HttpTransport,
    readonly api: Api,
  ) {
    this.reader = new InventoryReader(transport, INVENTORY_TIMEOUT_MS);
  }

  /** Probes the API when it is not given; a server that is down is taken for Ollama until it says otherwise. */
  static async open(url: string, api: Api | undefined, log: (msg: string) => void): Promise<UpstreamRelay> {
    const transport = new HttpTransport(url.replace(/\/+$/, ""));
    if (api) return new UpstreamRelay(transport, api);
    try {
      const probed = await new InventoryReader(transport, INVENTORY_TIMEOUT_MS).probeApi();
      log(`upstream ${url} speaks the ${probed === "ollama" ? "Ollama" : "OpenAI"} API`);
      return new UpstreamRelay(transport, probed);
    } catch (err) {
      log(`upstream ${url} did not answer a probe (${(err as Error).message}); taking it for Ollama (set --upstream-kind to choose)`);
      return new UpstreamRelay(transport, "ollama");
    }
  }

  async handle(request: LocalRequest): Promise<LocalResponse> {
    const headers: Record<string, string> = {};
    if (request.body !== undefined) headers["content-type"] = request.contentType ?? "application/json";
    const res = await this.transport.request({
      method: request.method,
      path: request.path,
      headers,
      body: request.body,
      signal: request.signal,
      timeoutMs: 0,
    });
    const type = res.headers["content-type"];
    return { status: res.statusCode, headers: type ? { "content-type": String(type) } : {}, body: res.body };
  }

  async inventory(): Promise<Inventory> {
    const { models, loaded } = await this.reader.read(this.api);
    return { available: models, loaded };
  }

  close(): Promise<void> {
    return this.transport.close();
  }
}

import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { handleOllama } from "./ollama.js";
import { handleOpenAI } from "./openai.js";
import { SimState, type SimOptions } from "./state.js";

export type { SimOptions } from "./state.js";

export interface RecordedRequest {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
}

export interface FailOptions {
  path?: string;
  status?: number;
  body?: unknown;
  /** How many matching requests fail; unlimited when absent. */
  times?: number;
  /** Accept the request and never answer. */
  hang?: boolean;
  /** Stream this many chunks, then destroy the socket. */
  dropAfterChunks?: number;
}

export interface SimServer {
  readonly url: string;
  readonly port: number;
  readonly requests: RecordedRequest[];
  fail(opts: FailOptions): void;
  scriptToolCalls(calls: Array<{ name: string; arguments: Record<string, unknown> }>): void;
  setModels(models: string[]): void;
  setLoaded(models: string[]): void;
  /** POST and DELETE requests being answered now (polls are not counted). */
  readonly inFlight: number;
  readonly maxInFlight: number;
  /** Answers whose client went away before they ended. */
  readonly aborted: number;
  close(): Promise<void>;
}

/** What a handler gets besides the request: the parsed body and where a failure injection wants the stream cut. */
export interface Exchange {
  req: IncomingMessage;
  res: ServerResponse;
  path: string;
  body: Record<string, unknown>;
  raw: Buffer;
  dropAfterChunks?: number;
}

/**
 * An inference server that behaves like Ollama or an OpenAI-compatible server
 * on the wire, with scripted answers, constant latency and failure injection.
 */
export async function startSim(options: SimOptions & { port?: number }): Promise<SimServer> {
  const state = new SimState(options);
  const requests: RecordedRequest[] = [];
  const failures: FailOptions[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  let aborted = 0;
  const handle = options.kind === "ollama" ? handleOllama : handleOpenAI;

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const raw = Buffer.concat(chunks);
      const path = (req.url ?? "/").split("?")[0];
      let body: Record<string, unknown> = {};
      let parsed: unknown;
      if (raw.length && !path.startsWith("/api/blobs/")) {
        try {
          parsed = JSON.parse(raw.toString("utf8"));
          if (parsed && typeof parsed === "object") body = parsed as Record<string, unknown>;
        } catch {
          parsed = undefined;
        }
      }
      requests.push({ method: req.method ?? "GET", path, headers: req.headers, body: parsed });
      // Only work counts (POST, DELETE): a gateway's polls (GETs) would blur what concurrency tests measure.
      if (req.method !== "GET" && req.method !== "HEAD") {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        res.once("close", () => {
          inFlight--;
          if (!res.writableFinished) aborted++;
        });
      }
      const rule = takeFailure(failures, path);
      const run = () => {
        if (rule?.hang) return;
        if (rule?.status) {
          res.writeHead(rule.status, { "content-type": "application/json" }).end(JSON.stringify(rule.body ?? { error: "injected failure" }));
          return;
        }
        handle({ req, res, path, body, raw, dropAfterChunks: rule?.dropAfterChunks }, state);
      };
      if (options.latencyMs) setTimeout(run, options.latencyMs);
      else run();
    });
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    fail: (opts) => failures.push({ ...opts }),
    scriptToolCalls: (calls) => (state.toolCalls = calls),
    setModels: (models) => state.setModels(models),
    setLoaded: (models) => state.setLoaded(models),
    get inFlight() {
      return inFlight;
    },
    get maxInFlight() {
      return maxInFlight;
    },
    get aborted() {
      return aborted;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function takeFailure(failures: FailOptions[], path: string): FailOptions | undefined {
  const index = failures.findIndex((f) => (f.path === undefined || f.path === path) && (f.times === undefined || f.times > 0));
  if (index === -1) return undefined;
  const rule = failures[index];
  if (rule.times !== undefined) rule.times--;
  return rule;
}

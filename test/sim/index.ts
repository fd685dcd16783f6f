import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { FailureQueue } from "./failures.js";
import { routeOllama } from "./ollama.js";
import type { FailOptions, RecordedRequest, ScriptedToolCall, SimOptions } from "./options.js";
import { routeOpenAI } from "./openai.js";
import { SimState } from "./state.js";
import { Timers } from "./timers.js";
import { isObject, sendBody, sendJson, TEXT_TYPE, type Exchange, type Json } from "./wire.js";

export type { FailOptions, RecordedRequest, ScriptedToolCall, SimOptions } from "./options.js";

export interface SimServer {
  /** http://127.0.0.1:PORT, followed by the base path when there is one */
  readonly url: string;
  readonly port: number;
  /** Every request received, in order, with its path as received (base path included). */
  readonly requests: RecordedRequest[];
  /** Failure injection for the next `times` (default: all following) requests matching `path` (or any path). */
  fail(opts: FailOptions): void;
  /** The next chat answer to a request offering tools calls these instead of answering text. */
  scriptToolCalls(calls: ScriptedToolCall[]): void;
  setModels(models: string[]): void;
  setLoaded(models: string[]): void;
  /** Requests being answered now; GET and HEAD (a gateway's polls) are not counted. */
  readonly inFlight: number;
  /** The most counted in flight at once. */
  readonly maxInFlight: number;
  /** Answers whose client went away before they ended (a hung answer included, a drop the sim injected not). */
  aborted: number;
  /** Closes the server, destroying open sockets. */
  close(): Promise<void>;
}

/** Parses a request body: JSON when it is, its text when it is not (blob uploads are never parsed). */
function parseBody(raw: Buffer, path: string): { recorded: unknown; body: Json; problem?: "missing" | "invalid" } {
  if (raw.length === 0) return { recorded: undefined, body: {}, problem: "missing" };
  const text = raw.toString("utf8");
  if (path.startsWith("/api/blobs/")) return { recorded: text, body: {} };
  try {
    const parsed: unknown = JSON.parse(text);
    return isObject(parsed) ? { recorded: parsed, body: parsed } : { recorded: parsed, body: {}, problem: "invalid" };
  } catch {
    return { recorded: text, body: {}, problem: "invalid" };
  }
}

/** The API path of a request under the base path, or undefined for one outside it. */
function apiPath(received: string, basePath: string | undefined): string | undefined {
  if (!basePath) return received;
  return received.startsWith(`${basePath}/`) ? received.slice(basePath.length) : undefined;
}

/** The answer a failure injection gives, in the wire shape of the server's kind unless the test gave a body. */
function sendFailure(x: Exchange, kind: SimOptions["kind"], status: number, body: unknown): void {
  if (typeof body === "string") return sendBody(x, status, TEXT_TYPE, body);
  if (body !== undefined) return sendJson(x, status, body);
  const message = "injected failure";
  sendJson(x, status, kind === "ollama" ? { error: message } : { error: { message, type: "server_error", param: null, code: null } });
}

/**
 * Starts an inference server on 127.0.0.1 that behaves like Ollama or an
 * OpenAI-compatible server on the wire, with a scripted answer, constant
 * latency, cold loads and failure injection.
 */
export async function startSim(options: SimOptions): Promise<SimServer> {
  const timers = new Timers();
  const sim = new SimState(options, timers.later);
  const failures = new FailureQueue();
  const requests: RecordedRequest[] = [];
  const record = options.recordRequests !== false;
  const route = options.kind === "ollama" ? routeOllama : routeOpenAI;
  const counts = { inFlight: 0, maxInFlight: 0, aborted: 0 };
  let closing = false;

  function answer(req: IncomingMessage, res: ServerResponse, raw: Buffer, startedAt: number, outcome: { dropped: boolean }): void {
    const method = req.method ?? "GET";
    const received = (req.url ?? "/").split("?")[0];
    const path = apiPath(received, options.basePath);
    const { recorded, body, problem } = parseBody(raw, path ?? received);
    if (record) requests.push({ method, path: received, headers: req.headers, body: recorded });
    if (path === undefined) return void res.writeHead(404, { "content-type": TEXT_TYPE }).end("404 page not found");
    const rule = failures.take(path);
    const x: Exchange = {
      res,
      method,
      path,
      body,
      bodyProblem: problem,
      startedAt,
      later: timers.later,
      dropAfterChunks: rule?.dropAfterChunks,
      endAfterChunks: rule?.endAfterChunks,
      garbageAfterChunks: rule?.garbageAfterChunks,
      outcome,
    };
    const respond = (): void => {
      if (res.destroyed || rule?.hang) return;
      if (rule?.status !== undefined) return sendFailure(x, options.kind, rule.status, rule.body);
      try {
        route(x, sim);
      } catch (error) {
        if (!res.headersSent) sendJson(x, 500, { error: `sim bug: ${(error as Error).message}` });
      }
    };
    if (options.latencyMs) timers.later(options.latencyMs, respond);
    else respond();
  }

  const server = createServer({ noDelay: true }, (req, res) => {
    const startedAt = performance.now();
    const outcome = { dropped: false };
    if (req.method !== "GET" && req.method !== "HEAD") {
      counts.maxInFlight = Math.max(counts.maxInFlight, ++counts.inFlight);
      res.once("close", () => {
        counts.inFlight--;
        if (!res.writableFinished && !outcome.dropped && !closing) counts.aborted++;
      });
    }
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => answer(req, res, chunks.length === 1 ? chunks[0] : Buffer.concat(chunks), startedAt, outcome));
    req.on("error", () => res.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", () => resolve());
  });
  const port = (server.address() as AddressInfo).port;

  return {
    url: `http://127.0.0.1:${port}${options.basePath ?? ""}`,
    port,
    requests,
    fail: (opts) => failures.add(opts),
    scriptToolCalls: (calls) => sim.scriptToolCalls(calls),
    setModels: (models) => sim.catalog.replace(models),
    setLoaded: (models) => sim.catalog.setLoaded(models),
    get inFlight() {
      return counts.inFlight;
    },
    get maxInFlight() {
      return counts.maxInFlight;
    },
    get aborted() {
      return counts.aborted;
    },
    set aborted(value: number) {
      counts.aborted = value;
    },
    close: () =>
      new Promise<void>((resolve) => {
        closing = true;
        timers.clear();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

import WebSocket from "ws";
import { isConnectFailure } from "../fleet/index.js";
import type { Inventory, LocalServer } from "../engine/local-server.js";
import { Backoff, BUILD, dialUrl } from "../kernel/index.js";
import { CLOSE, encodeChunk, type GatewayMessage, type RequestMessage } from "./protocol.js";
import { WORKER_CONNECT_PATH } from "./routes.js";
import { SystemProbe } from "./system.js";

export interface WorkerAgentOptions {
  /** The gateway: http(s):// or ws(s)://, with or without the connect path. */
  server: string;
  clientKey?: string;
  name?: string;
  workerId?: string;
  maxConcurrency?: number;
  backend: LocalServer;
  log(message: string): void;
}

export interface WorkerAgent {
  /** Closes the socket, stops reconnecting and finishes nothing further. */
  stop(): Promise<void>;
}

interface Active {
  abort: AbortController;
  /** Set while the gateway has asked for a pause; resolves on resume. */
  resume?: { promise: Promise<void>; release(): void };
}

/** Past this much unsent data on the socket, wait for it to drain before sending more. */
const SOCKET_HIGH_WATER = 4 * 1024 * 1024;
const EMPTY: Inventory = { available: [], loaded: [] };

/**
 * Dials the gateway, registers, serves the requests it sends through the
 * backend, and heartbeats. When the socket drops it reconnects with backoff,
 * forever, under the worker id the gateway gave it.
 */
export function runWorkerAgent(options: WorkerAgentOptions): WorkerAgent {
  const url = dialUrl(options.server, WORKER_CONNECT_PATH);
  const system = new SystemProbe();
  const active = new Map<number, Active>();
  let workerId = options.workerId;
  let socket: WebSocket | undefined;
  let heartbeat: NodeJS.Timeout | undefined;
  let retry: NodeJS.Timeout | undefined;
  const backoff = new Backoff();
  let stopped = false;
  let inventoryFailing = false;

  const inventory = async (): Promise<Inventory> => {
    try {
      const found = await options.backend.inventory();
      if (inventoryFailing) options.log("the upstream answers again");
      inventoryFailing = false;
      return found;
    } catch (err) {
      if (!inventoryFailing) options.log(`cannot list the upstream's models: ${(err as Error).message}; reporting none until it answers`);
      inventoryFailing = true;
      return EMPTY;
    }
  };

  const send = (ws: WebSocket, message: object) => {
    if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(message));
  };

  let beating = false;
  /** One heartbeat at a time: a slow upstream or nvidia-smi must not pile them up. */
  const sendHeartbeat = async (ws: WebSocket) => {
    if (beating) return;
    beating = true;
    try {
      const [models, metrics] = await Promise.all([inventory(), system.read()]);
      send(ws, { type: "heartbeat", in_flight: active.size, max_concurrency: options.maxConcurrency, models, system: metrics });
    } finally {
      beating = false;
    }
  };

  const connect = async () => {
    const models = await inventory();
    if (stopped) return;
    const ws = new WebSocket(url, { perMessageDeflate: false, maxPayload: 256 * 1024 * 1024 });
    socket = ws;
    ws.on("open", () => {
      send(ws, {
        type: "register",
        client_key: options.clientKey,
        worker_id: workerId,
        worker_name: options.name,
        models: models.available.map((m) => m.name),
        max_concurrency: options.maxConcurrency,
        api: options.backend.api,
        agent: `flotilla-worker/${BUILD.version}`,
      });
    });
    ws.on("message", (data, isBinary) => {
      if (isBinary) return;
      let message: GatewayMessage | { type: "error"; message: string };
      try {
        message = JSON.parse(data.toString()) as typeof message;
      } catch {
        return options.log("the gateway sent a message that is not JSON; ignored");
      }
      switch (message.type) {
        case "registered":
          workerId = message.worker_id;
          backoff.reset();
          options.log(`registered with ${url} as ${message.name} (id ${message.worker_id}), ${models.available.length} models`);
          clearInterval(heartbeat);
          heartbeat = setInterval(() => void sendHeartbeat(ws), message.heartbeat_interval_ms);
          void sendHeartbeat(ws);
          return;
        case "error":
          return options.log(`the gateway refused: ${message.message}`);
        case "request":
          return void serve(ws, message);
        case "cancel":
          return cancel(message.id);
        case "pause":
          return pause(message.id);
        case "resume":
          return resume(message.id);
      }
    });
    ws.on("error", (err) => options.log(`connection to ${url}: ${err.message}`));
    ws.on("close", (code, reason) => {
      clearInterval(heartbeat);
      for (const id of active.keys()) cancel(id);
      if (stopped) return;
      const why = reason.length ? `${reason.toString()} (${code})` : `code ${code}`;
      const wait = backoff.next();
      options.log(`disconnected: ${why}; reconnecting in ${(wait / 1000).toFixed(1)} s`);
      retry = setTimeout(() => void connect(), wait);
    });
  };

  const cancel = (id: number) => {
    const request = active.get(id);
    request?.abort.abort();
    request?.resume?.release();
  };

  const pause = (id: number) => {
    const request = active.get(id);
    if (!request || request.resume) return;
    let release!: () => void;
    const promise = new Promise<void>((resolve) => (release = resolve));
    request.resume = { promise, release };
  };

  const resume = (id: number) => {
    const request = active.get(id);
    request?.resume?.release();
    if (request) request.resume = undefined;
  };

  const serve = async (ws: WebSocket, message: RequestMessage) => {
    const request: Active = { abort: new AbortController() };
    active.set(message.id, request);
    const signal = request.abort.signal;
    try {
      const body = message.body !== undefined ? Buffer.from(message.body, "utf8") : message.body_base64 !== undefined ? Buffer.from(message.body_base64, "base64") : undefined;
      const response = await options.backend.handle({ method: message.method, path: message.path, body, contentType: message.content_type, signal });
      if (signal.aborted) return;
      send(ws, { type: "response", id: message.id, status: response.status, headers: response.headers });
      for await (const chunk of response.body) {
        if (signal.aborted || ws.readyState !== WebSocket.OPEN) break;
        const frame = encodeChunk(message.id, chunk);
        if (ws.bufferedAmount > SOCKET_HIGH_WATER) await new Promise((resolve) => ws.send(frame, resolve));
        else ws.send(frame);
        if (request.resume) await request.resume.promise;
      }
      if (!signal.aborted) send(ws, { type: "end", id: message.id });
    } catch (err) {
      if (signal.aborted) return;
      const code = isConnectFailure(err) ? "unreachable" : undefined;
      send(ws, { type: "error", id: message.id, message: (err as Error).message ?? String(err), code });
    } finally {
      active.delete(message.id);
    }
  };

  void connect();
  return {
    async stop() {
      stopped = true;
      clearTimeout(retry);
      clearInterval(heartbeat);
      for (const id of active.keys()) cancel(id);
      if (socket && socket.readyState !== WebSocket.CLOSED) {
        const closed = new Promise((resolve) => socket?.once("close", resolve));
        socket.close(CLOSE.normal, "worker stopping");
        await closed;
      }
    },
  };
}


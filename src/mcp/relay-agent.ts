import WebSocket from "ws";
import { Backoff, dialUrl, SecretMatch } from "../kernel/index.js";
import { MCP_CONNECT_PATH, RELAY_CLOSE, RELAY_UNAUTHORIZED, type RelayFrame } from "./protocol.js";

/** What answers the calls a relay takes: an MCP server behind it. */
export interface McpBackend {
  /** Answers one JSON-RPC body (a request, a notification, a batch); undefined when nothing needs an answer. */
  answer(body: unknown, signal: AbortSignal): Promise<unknown>;
}

export interface RelayAgentOptions {
  /** The gateway: http(s):// or ws(s)://, with or without the connect path. */
  server: string;
  id?: string;
  clientKey?: string;
  clientName?: string;
  /** When set, calls whose bearer is not this token are refused (nfrx's AUTH_TOKEN). */
  authToken?: string;
  backend: McpBackend;
  log(message: string): void;
  /** Called each time the gateway accepts the relay, with its id. */
  onRegistered?(id: string): void;
}

export interface RelayAgent {
  /** The id the gateway knows the relay by, once registered. */
  readonly id: string | undefined;
  stop(): Promise<void>;
}

const PING_MS = 15_000;
/** The gateway pings every 15 s by default; this long without a word, it is taken for gone. */
const GATEWAY_SILENT_MS = 50_000;

/**
 * Dials the gateway, registers (nfrx's `{ id, client_name, client_key }`),
 * and answers each call session through the backend. A `close` from the
 * gateway stops the call (the backend tells the MCP server it was
 * cancelled). When the socket drops it reconnects with backoff, forever,
 * under the id the gateway gave it.
 */
export function runRelayAgent(options: RelayAgentOptions): RelayAgent {
  const url = dialUrl(options.server, MCP_CONNECT_PATH);
  const token = options.authToken === undefined ? undefined : new SecretMatch(options.authToken);
  const calls = new Map<string, AbortController>();
  let id = options.id;
  let socket: WebSocket | undefined;
  let retry: NodeJS.Timeout | undefined;
  let pinger: NodeJS.Timeout | undefined;
  const backoff = new Backoff();
  let stopped = false;

  const send = (ws: WebSocket, frame: RelayFrame) => {
    if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(frame));
  };

  const authorized = (auth: string | undefined) => token === undefined || (auth !== undefined && token.matches(auth));

  const serve = async (ws: WebSocket, frame: RelayFrame) => {
    const sid = frame.sid as string;
    const abort = new AbortController();
    calls.set(sid, abort);
    let payload: unknown;
    try {
      payload = await options.backend.answer(frame.payload, abort.signal);
    } catch (err) {
      payload = { jsonrpc: "2.0", id: null, error: { code: -32000, message: `Provider error: ${(err as Error).message}`, data: { mcp: "MCP_UPSTREAM_ERROR" } } };
    } finally {
      calls.delete(sid);
    }
    if (abort.signal.aborted) return;
    send(ws, payload === undefined ? { t: "rpc", sid } : { t: "rpc", sid, payload });
    send(ws, { t: "close", sid, msg: "done" });
  };

  const handle = (ws: WebSocket, frame: RelayFrame) => {
    switch (frame.t) {
      case "open":
        if (!frame.sid) return;
        if (!authorized(frame.auth || undefined)) return send(ws, { t: "open.fail", sid: frame.sid, code: RELAY_UNAUTHORIZED, msg: "unauthorized" });
        return send(ws, { t: "open.ok", sid: frame.sid });
      case "rpc":
        if (frame.sid) void serve(ws, frame);
        return;
      case "close":
        if (frame.sid) calls.get(frame.sid)?.abort();
        return;
      case "ping":
        return send(ws, { t: "pong" });
    }
  };

  const connect = () => {
    if (stopped) return;
    const ws = new WebSocket(url, { perMessageDeflate: false, maxPayload: 256 * 1024 * 1024 });
    socket = ws;
    let registered = false;
    let lastHeard = Date.now();
    ws.on("open", () => {
      ws.send(JSON.stringify({ id: id ?? "", client_name: options.clientName ?? "", ...(options.clientKey !== undefined ? { client_key: options.clientKey } : {}) }));
    });
    ws.on("message", (data, isBinary) => {
      lastHeard = Date.now();
      if (isBinary) return;
      let message: RelayFrame & { id?: string };
      try {
        message = JSON.parse(data.toString()) as typeof message;
      } catch {
        return options.log("the gateway sent a message that is not JSON; ignored");
      }
      if (!registered) {
        registered = true;
        id = message.id;
        backoff.reset();
        options.log(`registered with ${url} as ${id}`);
        options.onRegistered?.(id as string);
        clearInterval(pinger);
        pinger = setInterval(() => {
          if (Date.now() - lastHeard > GATEWAY_SILENT_MS) return ws.terminate();
          send(ws, { t: "ping" });
        }, PING_MS);
        return;
      }
      handle(ws, message);
    });
    ws.on("error", (err) => options.log(`connection to ${url}: ${err.message}`));
    ws.on("close", (code, reason) => {
      clearInterval(pinger);
      for (const abort of calls.values()) abort.abort();
      calls.clear();
      if (stopped) return;
      const why = reason.length ? `${reason.toString()} (${code})` : `code ${code}`;
      const wait = backoff.next();
      options.log(`${registered ? "disconnected" : "not registered"}: ${why}; reconnecting in ${(wait / 1000).toFixed(1)} s`);
      retry = setTimeout(connect, wait);
    });
  };

  connect();
  return {
    get id() {
      return id;
    },
    async stop() {
      stopped = true;
      clearTimeout(retry);
      clearInterval(pinger);
      for (const abort of calls.values()) abort.abort();
      if (socket && socket.readyState !== WebSocket.CLOSED) {
        const closed = new Promise((resolve) => socket?.once("close", resolve));
        socket.close(RELAY_CLOSE.normal, "relay stopping");
        await closed;
      }
    },
  };
}

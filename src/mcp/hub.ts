import { randomUUID } from "node:crypto";
import type { WebSocket } from "ws";
import { ClientKeyCheck, FlotillaError, type DialInPeer } from "../kernel/index.js";
import type { JsonRpcBody } from "./jsonrpc.js";
import { RELAY_CLOSE, RelayRegister } from "./protocol.js";
import { RelayLink, type CallOptions, type RelaySummary } from "./relay-link.js";
import { TypeCompiler } from "@sinclair/typebox/compiler";

export interface RelayHubOptions {
  /** FLOTILLA_CLIENT_KEY; undefined means relays must send none. */
  clientKey: string | undefined;
  callTimeoutMs: number;
  maxMessageBytes: number;
  maxCallsPerRelay: number;
  maxCallsPerCaller: number;
  heartbeatIntervalMs: number;
  heartbeatTimeoutMs: number;
  registerTimeoutMs: number;
}

export interface RelayHubLog {
  info(msg: string): void;
  warn(msg: string): void;
}

export interface RelayCall extends Omit<CallOptions, "timeoutMs"> {
  /** Who is calling (their address), for the per-caller limit. */
  caller: string;
}

const checkRegister = TypeCompiler.Compile(RelayRegister);

/**
 * Admits dial-in MCP relays (seed 000; nfrx's protocol, see protocol.ts) and
 * forwards callers' JSON-RPC to them, within limits: message size, calls at
 * once per relay and per caller, and a time limit on each call.
 */
export class RelayHub {
  private readonly relays = new Map<string, RelayLink>();
  private readonly sockets = new Set<WebSocket>();
  private readonly callers = new Map<string, number>();
  private readonly clientKey: ClientKeyCheck;

  constructor(
    readonly options: RelayHubOptions,
    private readonly log: RelayHubLog,
  ) {
    this.clientKey = new ClientKeyCheck(options.clientKey, "the relay");
  }

  /** Takes a freshly upgraded socket; the first message must register. */
  accept(socket: WebSocket, peer: DialInPeer): void {
    this.sockets.add(socket);
    socket.once("close", () => this.sockets.delete(socket));
    const timer = setTimeout(() => refuse(socket, "expected register: no register message in time"), this.options.registerTimeoutMs);
    socket.once("close", () => clearTimeout(timer));
    socket.once("message", (data, isBinary) => {
      clearTimeout(timer);
      let message: unknown;
      try {
        message = isBinary ? undefined : JSON.parse(data.toString());
      } catch {
        message = undefined;
      }
      if (!checkRegister.Check(message)) {
        const first = isBinary || message === undefined ? undefined : checkRegister.Errors(message).First();
        return refuse(socket, `invalid register${first ? `: ${first.path || "(message)"} ${first.message}` : ": the first message must be a JSON object { id?, client_name?, client_key? }"}`);
      }
      const denied = this.clientKey.problem(message.client_key, peer);
      if (denied) {
        this.log.warn(`refused an MCP relay from ${peer.address}: ${denied}`);
        return refuse(socket, `unauthorized: ${denied}`);
      }
      this.register(socket, message, peer.address);
    });
  }

  private register(socket: WebSocket, message: RelayRegister, remote: string): void {
    const id = message.id || randomUUID();
    if (this.relays.has(id)) return refuse(socket, `id in use: a relay is connected as "${id}"`);
    const link = new RelayLink(id, message.client_name ?? "", remote, socket, this.options.maxMessageBytes);
    this.relays.set(id, link);
    socket.send(JSON.stringify({ id }));
    this.log.info(`MCP relay ${id}${link.name ? ` (${link.name})` : ""} connected from ${remote}`);
    const watchdog = setInterval(() => {
      const silent = Date.now() - link.lastSeen;
      if (silent > this.options.heartbeatTimeoutMs) {
        link.fail(`sent nothing for ${silent} ms`);
        return link.terminate();
      }
      link.send({ t: "ping" });
    }, Math.min(this.options.heartbeatIntervalMs, this.options.heartbeatTimeoutMs / 2));
    watchdog.unref();
    socket.on("message", (data, isBinary) => {
      if (!isBinary) link.handle(data.toString());
    });
    socket.once("close", (code, reason) => {
      clearInterval(watchdog);
      link.fail(reason.length ? reason.toString() : `closed (${code})`);
      if (this.relays.get(id) === link) this.relays.delete(id);
      this.log.warn(`MCP relay ${id} disconnected: ${link.failure}`);
    });
  }

  /** Forwards one body to relay `id`; see RelayLink.call. */
  async call(id: string, body: JsonRpcBody, call: RelayCall): Promise<unknown> {
    const link = this.relays.get(id);
    if (!link) throw new FlotillaError("relay_not_found", `no MCP relay is connected as "${id}"`);
    const open = this.callers.get(call.caller) ?? 0;
    if (open >= this.options.maxCallsPerCaller) {
      throw new FlotillaError("relay_busy", `this caller has ${open} MCP calls open, the most it may (mcp.max_calls_per_caller)`, { headers: { "retry-after": "1" } });
    }
    if (link.inFlight >= this.options.maxCallsPerRelay) {
      throw new FlotillaError("relay_busy", `the MCP relay "${id}" has ${link.inFlight} calls open, the most it takes (mcp.max_calls_per_relay)`, { headers: { "retry-after": "1" } });
    }
    this.callers.set(call.caller, open + 1);
    try {
      return await link.call(body, { ...call, timeoutMs: this.options.callTimeoutMs });
    } finally {
      const left = (this.callers.get(call.caller) ?? 1) - 1;
      if (left > 0) this.callers.set(call.caller, left);
      else this.callers.delete(call.caller);
    }
  }

  list(): RelaySummary[] {
    return [...this.relays.values()].map((link) => link.summary()).sort((a, b) => a.id.localeCompare(b.id));
  }

  /** Says goodbye to every relay (they reconnect to whichever gateway comes back). */
  close(): void {
    for (const link of this.relays.values()) {
      link.fail("the gateway is stopping");
      link.close(RELAY_CLOSE.goingAway, "the gateway is stopping");
    }
    this.relays.clear();
    for (const socket of this.sockets) socket.close(RELAY_CLOSE.goingAway, "the gateway is stopping");
  }
}

function refuse(socket: WebSocket, reason: string): void {
  socket.close(RELAY_CLOSE.refused, Buffer.byteLength(reason) > 120 ? reason.slice(0, 120) : reason);
}

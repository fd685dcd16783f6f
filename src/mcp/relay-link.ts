import { randomUUID } from "node:crypto";
import type { WebSocket } from "ws";
import { FlotillaError } from "../kernel/index.js";
import { firstMethod, onlyNotifications, type JsonRpcBody } from "./jsonrpc.js";
import { RELAY_UNAUTHORIZED, type RelayFrame } from "./protocol.js";

export interface CallOptions {
  /** The caller's bearer, passed to the relay as seed 000 says (the gateway does not check it). */
  auth?: string;
  requestId: string;
  timeoutMs: number;
  /** Aborted when the caller goes away: the relay is told to stop the call. */
  signal: AbortSignal;
}

export interface RelaySummary {
  id: string;
  name: string;
  remote: string;
  connected_at: string;
  in_flight: number;
  calls: number;
  /** Calls in flight by method (nfrx's `functions`). */
  methods: Record<string, number>;
}

/** Frames of one session as they arrive, taken one at a time. */
class FrameQueue {
  private readonly frames: RelayFrame[] = [];
  private waiter?: { resolve(f: RelayFrame): void; reject(e: unknown): void };
  private gone?: FlotillaError;

  push(frame: RelayFrame): void {
    if (this.waiter) {
      this.waiter.resolve(frame);
      this.waiter = undefined;
    } else this.frames.push(frame);
  }

  fail(err: FlotillaError): void {
    this.gone = err;
    this.waiter?.reject(err);
    this.waiter = undefined;
  }

  next(stop: AbortSignal): Promise<RelayFrame> {
    const ready = this.frames.shift();
    if (ready) return Promise.resolve(ready);
    if (this.gone) return Promise.reject(this.gone);
    if (stop.aborted) return Promise.reject(stop.reason);
    return new Promise((resolve, reject) => {
      const onStop = () => reject(stop.reason);
      stop.addEventListener("abort", onStop, { once: true });
      this.waiter = {
        resolve: (f) => (stop.removeEventListener("abort", onStop), resolve(f)),
        reject: (e) => (stop.removeEventListener("abort", onStop), reject(e)),
      };
    });
  }
}

const TIMEOUT = Symbol("timeout");

/** One connected relay: its socket and the calls open on it. */
export class RelayLink {
  private readonly sessions = new Map<string, FrameQueue>();
  private readonly methods = new Map<string, number>();
  private readonly connectedAt = new Date();
  private calls = 0;
  lastSeen = Date.now();
  /** Why the link ended, once it has. */
  failure?: string;

  constructor(
    readonly id: string,
    readonly name: string,
    readonly remote: string,
    private readonly socket: WebSocket,
    private readonly maxMessageBytes: number,
  ) {}

  get inFlight(): number {
    return this.sessions.size;
  }

  send(frame: RelayFrame): void {
    if (this.socket.readyState === this.socket.OPEN) this.socket.send(JSON.stringify(frame));
  }

  /** A text frame from the relay. */
  handle(text: string): void {
    this.lastSeen = Date.now();
    let frame: RelayFrame;
    try {
      frame = JSON.parse(text) as RelayFrame;
    } catch {
      return;
    }
    if (frame === null || typeof frame !== "object") return;
    if (frame.t === "ping") return this.send({ t: "pong" });
    if (typeof frame.sid !== "string") return;
    const session = this.sessions.get(frame.sid);
    if (!session) return;
    if (Buffer.byteLength(text) > this.maxMessageBytes + 1024) {
      return session.fail(new FlotillaError("relay_answer_too_large", `the relay's answer is over ${this.maxMessageBytes} bytes (mcp.max_message_bytes)`));
    }
    session.push(frame);
  }

  /** The socket is gone: every open call ends with an error. */
  fail(why: string): void {
    this.failure ??= why;
    const err = new FlotillaError("relay_unavailable", `the MCP relay "${this.id}" went away during the call: ${why}`);
    for (const session of this.sessions.values()) session.fail(err);
  }

  /**
   * One call: open a session, send the body, wait for the answer. Resolves
   * with the relay's payload, or undefined when the body held only
   * notifications; throws a FlotillaError for every way it can fail.
   */
  async call(body: JsonRpcBody, options: CallOptions): Promise<unknown> {
    if (this.failure) throw new FlotillaError("relay_unavailable", `the MCP relay "${this.id}" went away: ${this.failure}`);
    const sid = randomUUID();
    const method = firstMethod(body);
    const session = new FrameQueue();
    const stop = new AbortController();
    const timer = setTimeout(() => stop.abort(TIMEOUT), options.timeoutMs);
    const onCallerGone = () => stop.abort(options.signal.reason);
    options.signal.addEventListener("abort", onCallerGone, { once: true });
    this.sessions.set(sid, session);
    this.methods.set(method, (this.methods.get(method) ?? 0) + 1);
    this.calls++;
    let ending = "done";
    try {
      this.send({ t: "open", sid, req_id: options.requestId, hint: method, auth: options.auth ?? "" });
      const opened = await session.next(stop.signal);
      if (opened.t === "open.fail") {
        ending = "";
        if (opened.code === RELAY_UNAUTHORIZED) throw new FlotillaError("relay_refused", `the MCP relay "${this.id}" refused the call: ${opened.msg ?? "unauthorized"} (send its token as Authorization: Bearer)`);
        throw new FlotillaError("relay_unavailable", `the MCP relay "${this.id}" could not take the call: ${opened.msg ?? opened.code ?? "open failed"}`);
      }
      if (opened.t !== "open.ok") throw new FlotillaError("relay_unavailable", `the MCP relay "${this.id}" answered "${opened.t}" to open`);
      this.send({ t: "rpc", sid, payload: body });
      const answer = await session.next(stop.signal);
      if (answer.t === "rpc") return onlyNotifications(body) ? undefined : answer.payload;
      if (answer.t === "close" && onlyNotifications(body)) return undefined;
      ending = "";
      throw new FlotillaError("relay_unavailable", `the MCP relay "${this.id}" ended the call without an answer${answer.msg ? `: ${answer.msg}` : ""}`);
    } catch (err) {
      if (stop.signal.aborted && stop.signal.reason === TIMEOUT) {
        ending = "timeout";
        throw new FlotillaError("relay_timeout", `the MCP relay "${this.id}" did not answer ${method} within ${options.timeoutMs} ms (mcp.call_timeout_ms)`);
      }
      if (stop.signal.aborted) ending = "cancelled";
      else if (err instanceof FlotillaError && err.code === "relay_answer_too_large") ending = "resp_too_large";
      throw err;
    } finally {
      clearTimeout(timer);
      options.signal.removeEventListener("abort", onCallerGone);
      this.sessions.delete(sid);
      const left = (this.methods.get(method) ?? 1) - 1;
      if (left > 0) this.methods.set(method, left);
      else this.methods.delete(method);
      if (ending) this.send({ t: "close", sid, msg: ending });
    }
  }

  summary(): RelaySummary {
    return {
      id: this.id,
      name: this.name,
      remote: this.remote,
      connected_at: this.connectedAt.toISOString(),
      in_flight: this.inFlight,
      calls: this.calls,
      methods: Object.fromEntries(this.methods),
    };
  }

  close(code: number, reason: string): void {
    this.socket.close(code, reason);
  }

  terminate(): void {
    this.socket.terminate();
  }
}

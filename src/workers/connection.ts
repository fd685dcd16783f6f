import type { WebSocket } from "ws";
import { requestBodyBytes, StreamBody, type Transport, type UpstreamRequest, type UpstreamResponse } from "../fleet/index.js";
import { FlotillaError } from "../kernel/index.js";
import { CLOSE, decodeChunk, type GatewayMessage, type WorkerMessage } from "./protocol.js";

interface Pending {
  resolve(response: UpstreamResponse): void;
  reject(err: Error): void;
  body?: StreamBody;
  /** Head timeout, then the gap allowed between chunks. */
  timer: NodeJS.Timeout;
  /** What the timer allows now: the head's timeout, then the idle gap. */
  timeoutMs: number;
  idleTimeoutMs: number;
  paused: boolean;
  unlisten(): void;
}

const MAX_ID = 0xffff_ffff;

/**
 * One registered worker's socket, carrying many requests at once. Each
 * request gets a number; the worker answers with a head, binary chunks and an
 * end, all tagged with it.
 */
export class WorkerConnection {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private gone: string | undefined;

  constructor(
    private readonly socket: WebSocket,
    readonly workerName: string,
  ) {}

  /** Why the connection ended, once it has. */
  get failure(): string | undefined {
    return this.gone;
  }

  async request(request: UpstreamRequest): Promise<UpstreamResponse> {
    if (this.gone) throw this.unreachable(this.gone);
    if (request.signal?.aborted) throw new FlotillaError("upstream_error", "the request was cancelled");
    const id = this.nextId;
    this.nextId = id === MAX_ID ? 1 : id + 1;
    const body = request.body === undefined ? undefined : await requestBodyBytes(request.body);
    if (this.gone) throw this.unreachable(this.gone);
    const contentType = request.headers["content-type"];
    const textual = body !== undefined && (contentType === undefined || contentType.includes("json") || contentType.startsWith("text/"));
    this.send({
      type: "request",
      id,
      request_id: request.headers["x-request-id"] ?? "",
      method: request.method,
      path: request.path,
      content_type: contentType,
      ...(body === undefined ? {} : textual ? { body: body.toString("utf8") } : { body_base64: body.toString("base64") }),
    });
    return new Promise<UpstreamResponse>((resolve, reject) => {
      const onAbort = () => this.cancel(id, new FlotillaError("upstream_error", "the request was cancelled"));
      request.signal?.addEventListener("abort", onAbort, { once: true });
      const timer = setTimeout(() => this.timedOut(id), request.timeoutMs);
      this.pending.set(id, {
        resolve,
        reject,
        timer,
        timeoutMs: request.timeoutMs,
        idleTimeoutMs: request.idleTimeoutMs ?? request.timeoutMs,
        paused: false,
        unlisten: () => request.signal?.removeEventListener("abort", onAbort),
      });
    });
  }

  handleMessage(message: WorkerMessage): void {
    if (message.type === "heartbeat") return;
    const entry = this.pending.get(message.id);
    if (!entry) return; // answered or cancelled already; late frames are dropped
    switch (message.type) {
      case "response": {
        if (entry.body) return;
        const id = message.id;
        entry.body = new StreamBody({
          onFull: () => this.pause(id, true),
          onWanted: () => this.pause(id, false),
          onDestroy: () => this.cancel(id),
        });
        clearTimeout(entry.timer);
        entry.timeoutMs = entry.idleTimeoutMs;
        entry.timer = setTimeout(() => this.timedOut(id), entry.timeoutMs);
        entry.resolve({ statusCode: message.status, headers: message.headers ?? {}, body: entry.body });
        return;
      }
      case "end":
        this.settle(message.id, entry);
        entry.body?.push(null);
        return;
      case "error": {
        this.settle(message.id, entry);
        const failure =
          message.code === "unreachable"
            ? this.unreachable(`its server is unreachable: ${message.message}`)
            : new FlotillaError("upstream_error", `worker ${this.workerName} failed: ${message.message}`, { retryable: true });
        if (entry.body) entry.body.destroy(failure);
        else entry.reject(failure);
        return;
      }
    }
  }

  handleChunk(frame: Buffer): void {
    const decoded = decodeChunk(frame);
    if (!decoded) return;
    const entry = this.pending.get(decoded.id);
    if (!entry?.body) return;
    if (!entry.paused) entry.timer.refresh();
    entry.body.feed(decoded.chunk);
  }

  /** The socket is gone: every request on it fails, retryably if nothing was sent yet. */
  fail(reason: string): void {
    if (this.gone) return;
    this.gone = reason;
    const entries = [...this.pending.entries()];
    this.pending.clear();
    for (const [, entry] of entries) {
      clearTimeout(entry.timer);
      entry.unlisten();
      const failure = this.unreachable(reason);
      if (entry.body) entry.body.destroy(new Error(`worker ${this.workerName} ${reason}`));
      else entry.reject(failure);
    }
  }

  close(code: number, reason: string): void {
    this.socket.close(code, reason);
    this.fail(reason);
  }

  private send(message: GatewayMessage): void {
    this.socket.send(JSON.stringify(message));
  }

  private settle(id: number, entry: Pending): void {
    clearTimeout(entry.timer);
    entry.unlisten();
    this.pending.delete(id);
  }

  /** Stops a request the gateway no longer wants, and tells the worker to stop too. */
  private cancel(id: number, err?: Error): void {
    const entry = this.pending.get(id);
    if (!entry) return;
    this.settle(id, entry);
    if (!this.gone) this.send({ type: "cancel", id });
    if (err) {
      if (entry.body) entry.body.destroy(err);
      else entry.reject(err);
    }
  }

  private pause(id: number, paused: boolean): void {
    const entry = this.pending.get(id);
    if (!entry || entry.paused === paused || this.gone) return;
    entry.paused = paused;
    // A paused stream waits on our reader, not the worker: the gap timer restarts on resume.
    if (!paused) entry.timer.refresh();
    this.send({ type: paused ? "pause" : "resume", id });
  }

  private timedOut(id: number): void {
    const entry = this.pending.get(id);
    if (!entry) return;
    if (entry.paused) {
      entry.timer.refresh();
      return;
    }
    this.cancel(id, new FlotillaError("upstream_timeout", `worker ${this.workerName} sent nothing in ${entry.timeoutMs} ms`, { retryable: true }));
  }

  private unreachable(reason: string): FlotillaError {
    return new FlotillaError("upstream_unreachable", `worker ${this.workerName} ${reason}`, { retryable: true });
  }
}

/** A worker's node talks through whichever connection the worker has now. */
export class WorkerTransport implements Transport {
  readonly via = "worker";
  connection: WorkerConnection | undefined;

  constructor(private readonly workerName: string) {}

  request(request: UpstreamRequest): Promise<UpstreamResponse> {
    if (!this.connection) {
      return Promise.reject(new FlotillaError("upstream_unreachable", `worker ${this.workerName} is not connected`, { retryable: true }));
    }
    return this.connection.request(request);
  }

  async close(): Promise<void> {
    this.connection?.close(CLOSE.goingAway, "removed from the fleet");
    this.connection = undefined;
  }
}

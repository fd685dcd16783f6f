import { Readable } from "node:stream";
import { Pool, type Dispatcher } from "undici";

/**
 * How requests reach a node: HTTP for a polled server, a WebSocket for a
 * dial-in worker, a function call for the embedded engine. Everything that
 * talks to a node goes through one of these.
 */
export interface Transport {
  readonly via: NodeVia;
  request(request: UpstreamRequest): Promise<UpstreamResponse>;
  close(): Promise<void>;
}

export type NodeVia = "http" | "worker" | "embedded";

export interface UpstreamRequest {
  method: "GET" | "POST" | "DELETE" | "HEAD";
  path: string;
  headers: Record<string, string>;
  body?: string | Buffer | NodeJS.ReadableStream;
  signal?: AbortSignal;
  /** Time allowed for the response head, and between body chunks unless idleTimeoutMs says otherwise. */
  timeoutMs: number;
  /** Time allowed between body chunks once the head came (a stream that goes silent). */
  idleTimeoutMs?: number;
}

/** The shape of undici's response body, which HTTP nodes return as is. */
export interface UpstreamBody extends AsyncIterable<Buffer> {
  text(): Promise<string>;
  json(): Promise<unknown>;
  dump(): Promise<void>;
}

export interface UpstreamResponse {
  statusCode: number;
  headers: Record<string, string | string[] | undefined>;
  body: UpstreamBody;
}

const CONNECT_FAILURES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EPIPE",
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_SOCKET",
  "UND_ERR_CLOSED",
]);

/** The server could not be reached at all (as opposed to answering badly): worth trying another. */
export function isConnectFailure(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code ?? "";
  const cause = (err as { cause?: NodeJS.ErrnoException }).cause;
  return CONNECT_FAILURES.has(code) || CONNECT_FAILURES.has(cause?.code ?? "");
}

/**
 * A server reached over HTTP, at an origin or under a base path (behind a reverse
 * proxy): connections are pooled per origin and every path is prefixed with the base.
 */
export class HttpTransport implements Transport {
  readonly via = "http";
  private readonly pool: Pool;
  private readonly basePath: string;

  /** Throws on an address that is not an http(s) URL; nothing is opened then. */
  constructor(url: string) {
    const parsed = new URL(url);
    this.basePath = parsed.pathname.replace(/\/+$/, "");
    this.pool = new Pool(parsed.origin, { connections: 128, pipelining: 1, keepAliveTimeout: 30_000 });
  }

  request(request: UpstreamRequest): Promise<UpstreamResponse> {
    return this.pool.request({
      path: this.basePath + request.path,
      method: request.method,
      headers: request.headers,
      body: request.body as Dispatcher.DispatchOptions["body"],
      signal: request.signal,
      headersTimeout: request.timeoutMs,
      bodyTimeout: request.idleTimeoutMs ?? request.timeoutMs,
    });
  }

  close(): Promise<void> {
    return this.pool.destroy();
  }
}

/**
 * The transport of a stored server that cannot be used (an address no pool can be
 * made for): every request fails with why, so the server is listed down with its
 * error until it is changed or removed, and is never routed to.
 */
export class UnusableTransport implements Transport {
  readonly via = "http";

  constructor(readonly problem: string) {}

  request(): Promise<UpstreamResponse> {
    return Promise.reject(new Error(this.problem));
  }

  async close(): Promise<void> {}
}

/** undici's reading methods, for bodies that do not come from undici. */
abstract class ReadableBody extends Readable implements UpstreamBody {
  async text(): Promise<string> {
    const chunks: Buffer[] = [];
    for await (const chunk of this) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString("utf8");
  }

  async json(): Promise<unknown> {
    return JSON.parse(await this.text());
  }

  async dump(): Promise<void> {
    this.destroy();
  }
}

/**
 * A body fed from outside (a worker's frames), with a bounded buffer:
 * `onFull` and `onWanted` tell the producer to pause and to resume.
 */
export class StreamBody extends ReadableBody {
  private full = false;

  constructor(
    private readonly flow: { onFull(): void; onWanted(): void; onDestroy(err: Error | null): void },
    highWaterMark = 256 * 1024,
  ) {
    super({ highWaterMark });
  }

  /** Queues a chunk; tells the producer to pause when the buffer is full. */
  feed(chunk: Buffer): void {
    if (!this.push(chunk) && !this.full) {
      this.full = true;
      this.flow.onFull();
    }
  }

  override _read(): void {
    if (this.full) {
      this.full = false;
      this.flow.onWanted();
    }
  }

  override _destroy(err: Error | null, callback: (err?: Error | null) => void): void {
    this.flow.onDestroy(err);
    callback(err);
  }
}

/** A body pulled chunk by chunk from an iterator (the engine's tokens); stopping early ends the iterator. */
export class PulledBody extends ReadableBody {
  private readonly source: AsyncIterator<Buffer>;

  constructor(source: AsyncIterable<Buffer>) {
    super();
    this.source = source[Symbol.asyncIterator]();
  }

  override _read(): void {
    this.source.next().then(
      (step) => this.push(step.done ? null : step.value),
      (err: unknown) => this.destroy(err as Error),
    );
  }

  override _destroy(err: Error | null, callback: (err?: Error | null) => void): void {
    const stop = this.readableEnded ? undefined : this.source.return?.();
    Promise.resolve(stop).then(
      () => callback(err),
      () => callback(err),
    );
  }
}

/** A request body as bytes, for transports that send it in one piece. */
export async function requestBodyBytes(body: string | Buffer | NodeJS.ReadableStream): Promise<Buffer> {
  if (typeof body === "string") return Buffer.from(body, "utf8");
  if (Buffer.isBuffer(body)) return body;
  const chunks: Buffer[] = [];
  for await (const chunk of body as AsyncIterable<Buffer | string>) chunks.push(typeof chunk === "string" ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks);
}

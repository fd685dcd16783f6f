import { PulledBody, requestBodyBytes, type Transport, type UpstreamRequest, type UpstreamResponse } from "../fleet/index.js";
import { FlotillaError } from "../kernel/index.js";
import type { LocalServer } from "./local-server.js";

/** The embedded engine as a node's transport: a function call where other nodes have a socket. */
export class LocalTransport implements Transport {
  readonly via = "embedded";

  constructor(private readonly server: LocalServer) {}

  async request(request: UpstreamRequest): Promise<UpstreamResponse> {
    const body = request.body === undefined ? undefined : await requestBodyBytes(request.body);
    const signal = request.signal ?? new AbortController().signal;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new FlotillaError("upstream_timeout", `the embedded engine sent nothing in ${request.timeoutMs} ms`, { retryable: true })),
        request.timeoutMs,
      );
    });
    try {
      const response = await Promise.race([
        this.server.handle({ method: request.method, path: request.path, body, contentType: request.headers["content-type"], signal }),
        timeout,
      ]);
      const piped = new PulledBody(response.body);
      // The client left mid-answer: stop pulling, which stops generation.
      const onAbort = () => piped.destroy(new Error("the request was cancelled"));
      signal.addEventListener("abort", onAbort, { once: true });
      piped.once("close", () => signal.removeEventListener("abort", onAbort));
      return { statusCode: response.status, headers: response.headers, body: piped };
    } finally {
      clearTimeout(timer);
    }
  }

  close(): Promise<void> {
    return this.server.close();
  }
}

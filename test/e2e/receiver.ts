import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from "node:http";

export interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface Receiver {
  /** Where to send: `http://<host>:<port>/hook`. */
  url: string;
  /** Every request it was sent, in order. */
  received: Received[];
  close(): Promise<void>;
}

/**
 * A loopback HTTP server (webhook receiver) that records every request it is
 * sent and then answers it with `answer` (an empty 200 unless told otherwise).
 */
export async function startReceiver(host = "127.0.0.1", answer: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => res.end()): Promise<Receiver> {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (d: Buffer) => (body += d.toString()));
    req.on("end", () => {
      received.push({ path: req.url ?? "", headers: req.headers, body });
      answer(req, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return {
    url: `http://${host}:${(server.address() as { port: number }).port}/hook`,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

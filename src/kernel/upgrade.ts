import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocketServer, type WebSocket } from "ws";

export type SocketHandler = (socket: WebSocket, request: IncomingMessage) => void;
/** Refuses an upgrade (an HTTP error before the handshake), or lets it through. */
export type UpgradeGuard = (request: IncomingMessage) => Promise<{ status: number; message: string } | undefined>;

const MAX_MESSAGE_BYTES = 256 * 1024 * 1024;

/**
 * WebSocket endpoints by path. Upgrades are taken before Fastify sees them,
 * so the HTTP path pays nothing for them; each path also has a plain HTTP
 * route (documented, answering 426) registered by its capability.
 */
export class UpgradeRoutes {
  private readonly routes = new Map<string, { handler: SocketHandler; guard?: UpgradeGuard }>();
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES, perMessageDeflate: false });

  /** `admit`: what every upgrade must pass first, whatever its path (where the request comes from). */
  constructor(private readonly admit: (request: IncomingMessage) => { status: number; message: string } | undefined = () => undefined) {}

  add(path: string, handler: SocketHandler, guard?: UpgradeGuard): void {
    this.routes.set(path, { handler, guard });
  }

  /** The `upgrade` listener for every HTTP server the gateway runs. */
  readonly listener = (request: IncomingMessage, socket: Duplex, head: Buffer): void => {
    const path = (request.url ?? "/").split("?", 1)[0].replace(/\/+$/, "");
    const route = this.routes.get(path);
    if (!route) {
      socket.end("HTTP/1.1 404 Not Found\r\nconnection: close\r\ncontent-length: 0\r\n\r\n");
      return;
    }
    const upgrade = () => this.wss.handleUpgrade(request, socket, head, (ws) => route.handler(ws, request));
    const refuse = (refused: { status: number; message: string }) => {
      const body = JSON.stringify({ error: refused.message });
      socket.end(`HTTP/1.1 ${refused.status} Refused\r\ncontent-type: application/json\r\nconnection: close\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
    };
    const refused = this.admit(request);
    if (refused) return refuse(refused);
    if (!route.guard) return upgrade();
    route.guard(request).then(
      (verdict) => (verdict ? refuse(verdict) : upgrade()),
      () => socket.destroy(),
    );
  };

  close(): void {
    for (const client of this.wss.clients) client.terminate();
    this.wss.close();
  }
}

/** What a dial-in agent connects to: `http://gw:8080` → `ws://gw:8080{path}`; a URL with its own path keeps it. */
export function dialUrl(server: string, path: string): string {
  const url = new URL(server);
  if (url.protocol === "http:") url.protocol = "ws:";
  else if (url.protocol === "https:") url.protocol = "wss:";
  if (url.pathname === "/" || url.pathname === "") url.pathname = path;
  return url.toString();
}

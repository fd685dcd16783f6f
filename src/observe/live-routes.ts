import { readFileSync } from "node:fs";
import type { IncomingMessage } from "node:http";
import { Type } from "@sinclair/typebox";
import type { FastifyInstance } from "fastify";
import { FlotillaError, type Principal, type UpgradeRoutes } from "../kernel/index.js";
import type { LiveMessage, LiveState } from "./live.js";

export const LIVE_SOCKET_PATH = "/ws";
const HEARTBEAT_MS = 15_000;
/** A /ws client this far behind is dropped rather than buffered without end. */
const MAX_BUFFERED_BYTES = 8 * 1024 * 1024;

// Read from the source tree (tsc does not copy HTML into dist/), as build-info reads package.json.
const STATE_PAGE = readFileSync(new URL("../../../src/observe/state-page.html", import.meta.url), "utf8");

/** Seed 000's live state (snapshot, SSE stream, the /state page) and seed 003's /ws. */
/** Who a WebSocket upgrade is, and whether a member may open it: the app's own auth guard, passed in. */
export type UpgradeAuthorizer = (request: IncomingMessage, level: "member") => Promise<Principal | FlotillaError>;

export function registerLiveRoutes(app: FastifyInstance, live: LiveState, upgrades: UpgradeRoutes, authorizeUpgrade: UpgradeAuthorizer): void {
  const tags = ["fleet"];
  const read = { auth: "member" as const };

  app.get("/api/state", { schema: { summary: "The fleet now: nodes, models, requests in flight, queue, transfers", tags }, config: read }, async function state() {
    return live.snapshot();
  });

  app.get(
    "/api/state/stream",
    { schema: { summary: "Server-sent events: `snapshot` first, then `node`, `node_removed`, `event` and `transfer` as they happen", tags }, config: read },
    async function stateStream(req, reply) {
      const res = reply.raw;
      reply.hijack();
      res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache", connection: "keep-alive", "x-accel-buffering": "no", "x-request-id": String(req.id) });
      res.write(`event: snapshot\ndata: ${JSON.stringify(live.snapshot())}\n\n`);
      const unsubscribe = live.subscribe((m: LiveMessage) => res.write(`event: ${m.type}\nid: ${m.seq}\ndata: ${JSON.stringify(m)}\n\n`), { requests: false });
      const heartbeat = setInterval(() => res.write(": keep-alive\n\n"), HEARTBEAT_MS);
      res.once("close", () => {
        clearInterval(heartbeat);
        unsubscribe();
      });
    },
  );

  upgrades.add(
    LIVE_SOCKET_PATH,
    (socket) => {
      socket.send(JSON.stringify({ type: "snapshot", state: live.snapshot() }));
      const unsubscribe = live.subscribe(
        (m) => {
          if (socket.bufferedAmount > MAX_BUFFERED_BYTES) return socket.close(1013, "too far behind");
          socket.send(JSON.stringify(m));
        },
        { requests: true },
      );
      socket.once("close", unsubscribe);
    },
    async (request) => {
      const verdict = await authorizeUpgrade(request, "member");
      return verdict instanceof FlotillaError ? { status: verdict.status, message: verdict.message } : undefined;
    },
  );
  app.get(
    LIVE_SOCKET_PATH,
    {
      schema: {
        summary: "Live state over a WebSocket: a snapshot, then every change, transfer progress and request status",
        description: "Upgrade with Authorization: Bearer <key> (or ?key=<key> from a browser). Messages are JSON: {type: snapshot|node|node_removed|event|transfer|request, seq, …}.",
        tags,
        response: { 426: Type.Object({ error: Type.String() }, { additionalProperties: true }) },
      },
      config: read,
    },
    async function liveWithoutUpgrade() {
      throw new FlotillaError("upgrade_required", `${LIVE_SOCKET_PATH} takes a WebSocket upgrade`);
    },
  );

  // The page holds no data: it asks for a key, then reads the stream with it.
  app.get("/state", { schema: { summary: "A live status page of the fleet", tags }, config: { auth: "public" } }, async function statePage(_req, reply) {
    return reply.type("text/html; charset=utf-8").send(STATE_PAGE);
  });
}

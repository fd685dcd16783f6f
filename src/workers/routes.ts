import { Type } from "@sinclair/typebox";
import type { FastifyInstance } from "fastify";
import { dialInPeer, FlotillaError, type UpgradeRoutes } from "../kernel/index.js";
import type { WorkerHub } from "./hub.js";

export const WORKER_CONNECT_PATH = "/api/workers/connect";

export function registerWorkerRoutes(app: FastifyInstance, upgrades: UpgradeRoutes, hub: WorkerHub): void {
  upgrades.add(WORKER_CONNECT_PATH, (socket, request) => hub.accept(socket, dialInPeer(request)));
  app.get(
    WORKER_CONNECT_PATH,
    {
      schema: {
        summary: "Worker registration (WebSocket)",
        description:
          'Upgrade to a WebSocket, then send `{ "type": "register", client_key?, worker_id?, worker_name?, models?, max_concurrency? }`. ' +
          "The client key must match FLOTILLA_CLIENT_KEY; a key sent to a server without one fails. See docs/worker-protocol.md.",
        tags: ["workers"],
        response: { 426: Type.Object({ error: Type.String() }, { additionalProperties: true }) },
      },
      // The client key travels in the register message, checked by the hub.
      config: { auth: "public" },
    },
    async function connectWithoutUpgrade() {
      throw new FlotillaError("upgrade_required", `${WORKER_CONNECT_PATH} takes a WebSocket upgrade`);
    },
  );
}

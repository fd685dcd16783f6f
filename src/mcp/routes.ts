import { Type, type TObject } from "@sinclair/typebox";
import type { FastifyInstance, FastifyReply } from "fastify";
import { bodyMayBeOmitted, callerGone, dialInPeer, errorBody, FlotillaError, type UpgradeRoutes } from "../kernel/index.js";
import type { ToolCatalog } from "./catalog.js";
import type { ToolAccess } from "./access.js";
import { serveMcp } from "./endpoint.js";
import type { RelayHub } from "./hub.js";
import { JsonRpcBody, JsonRpcId, onlyNotifications, singleId } from "./jsonrpc.js";
import { MCP_CONNECT_PATH, RelayId } from "./protocol.js";

const tags = ["mcp"];

const RelaySummary = Type.Object({
  id: Type.String(),
  name: Type.String(),
  remote: Type.String(),
  connected_at: Type.String({ format: "date-time" }),
  in_flight: Type.Integer(),
  calls: Type.Integer({ description: "Calls since it connected" }),
  methods: Type.Record(Type.String(), Type.Integer(), { description: "Calls in flight by method" }),
});

export function registerMcpRelayRoutes(app: FastifyInstance, upgrades: UpgradeRoutes, hub: RelayHub): void {
  upgrades.add(MCP_CONNECT_PATH, (socket, request) => hub.accept(socket, dialInPeer(request)));
  app.get(
    MCP_CONNECT_PATH,
    {
      schema: {
        summary: "MCP relay registration (WebSocket)",
        description:
          'Upgrade to a WebSocket, then send `{ "id"?, "client_name"?, "client_key"? }`; the gateway answers `{ "id" }`. ' +
          "The client key must match FLOTILLA_CLIENT_KEY; a key sent to a server without one fails. nfrx's relay protocol: see docs/mcp-relay.md.",
        tags,
        response: { 426: Type.Object({ error: Type.String() }, { additionalProperties: true }) },
      },
      // The client key travels in the register message, checked by the hub.
      config: { auth: "public" },
    },
    async function connectWithoutUpgrade() {
      throw new FlotillaError("upgrade_required", `${MCP_CONNECT_PATH} takes a WebSocket upgrade`);
    },
  );

  app.post(
    "/api/mcp/id/:id",
    {
      schema: {
        summary: "Call an MCP relay (JSON-RPC 2.0)",
        description:
          "Forwards a JSON-RPC request, notification or batch to the relay connected as `id` and answers what it answers " +
          "(202 with no body when the body held only notifications). The `Authorization` bearer goes to the relay, which may " +
          "require its own token; the gateway does not check it (seed 000). Errors are JSON-RPC error responses; " +
          "`error.data.mcp` carries nfrx's code (MCP_PROVIDER_UNAVAILABLE, MCP_TIMEOUT, MCP_LIMIT_EXCEEDED, MCP_UNAUTHORIZED).",
        tags,
        params: Type.Object({ id: RelayId }),
        body: JsonRpcBody,
        response: { 200: Type.Unknown({ description: "The relay's JSON-RPC response, or batch of responses" }), 202: Type.Null() },
      },
      config: { auth: "public", body: "inference" },
    },
    async function callRelay(req, reply) {
      const { id } = req.params as { id: string };
      const body = req.body as JsonRpcBody;
      const limit = hub.options.maxMessageBytes;
      const gone = callerGone(reply);
      try {
        if ((req.rawBody?.length ?? 0) > limit) throw new FlotillaError("payload_too_large", `the JSON-RPC message is over ${limit} bytes (mcp.max_message_bytes)`);
        const answer = await hub.call(id, body, { auth: bearer(req.headers.authorization), caller: req.ip, requestId: String(req.id), signal: gone.signal });
        if (onlyNotifications(body)) return reply.code(202).send();
        return reply.type("application/json").send(answer === undefined ? {} : answer);
      } catch (err) {
        if (!(err instanceof FlotillaError)) throw err;
        // Answered here rather than thrown, so the error carries the caller's JSON-RPC id.
        const plain = reply as FastifyReply;
        if (err.headers) void plain.headers(err.headers);
        return plain.code(err.status).type("application/json").send(errorBody("jsonrpc", err, String(req.id), singleId(body)));
      } finally {
        gone.release();
      }
    },
  );

  declineStreamAndSession(app, "/api/mcp/id/:id", Type.Object({ id: RelayId }), "a relay answers only the calls it is sent");

  app.get(
    "/api/mcp/relays",
    { schema: { summary: "The MCP relays connected to this gateway", tags, response: { 200: Type.Object({ relays: Type.Array(RelaySummary) }) } }, config: { auth: "admin" } },
    async function listRelays() {
      return { relays: hub.list() };
    },
  );
}

/** The caller's `Authorization: Bearer T`, which the relay checks against its own token. */
function bearer(header: string | undefined): string | undefined {
  return header && header.slice(0, 7).toLowerCase() === "bearer " ? header.slice(7).trim() : undefined;
}

/**
 * Flotilla as one MCP server: `/mcp` offers every tool of every relay and
 * configured server; `/mcp/{set}` a named tool set (`mcp.tool_sets`).
 */
export function registerMcpEndpointRoutes(app: FastifyInstance, catalog: ToolCatalog, access: ToolAccess): void {
  const SetParams = Type.Object({ set: Type.String({ pattern: "^[A-Za-z0-9_.-]+$", maxLength: 128 }) });
  // `/v1/mcp`: Jan Server's path for the same endpoint (its gateway's `/mcp` leads there).
  for (const url of ["/mcp", "/v1/mcp", "/mcp/:set"]) {
    const everything = url !== "/mcp/:set";
    app.post(
      url,
      {
        schema: {
          summary: everything ? "Every MCP tool behind the gateway (streamable HTTP)" : "A named tool set (streamable HTTP)",
          description:
            "An MCP server (streamable HTTP, stateless, JSON answers) offering the tools of every connected relay and every server in `mcp.servers`, " +
            "each named `<relay or server>__<tool>`" +
            (everything ? "." : "; only those matching the set's patterns in `mcp.tool_sets`."),
          tags,
          ...(everything ? {} : { params: SetParams }),
          body: JsonRpcBody,
        },
        config: { auth: "inference", body: "inference" },
      },
      async function serveMcpEndpoint(req, reply) {
        const filter = await access.filterFor(req.principal, (req.params as { set?: string }).set);
        const gone = callerGone(reply);
        let answer: Awaited<ReturnType<typeof serveMcp>>;
        try {
          answer = await serveMcp(req.body, catalog, filter, { caller: req.ip, requestId: String(req.id), signal: gone.signal });
        } finally {
          gone.release();
        }
        const plain = reply as FastifyReply;
        if (answer.body === undefined) return plain.code(answer.status).send();
        return plain.code(answer.status).type("application/json").send(answer.body);
      },
    );
    declineStreamAndSession(app, url, everything ? undefined : SetParams, "the gateway keeps no sessions and sends no events unasked");
  }
}

/**
 * Seed 002's tools API as its documentation names it: one JSON-RPC method
 * per path, answered as `/v1/mcp` answers it (`method` may be left out).
 */
export function registerMcpToolsApiRoutes(app: FastifyInstance, catalog: ToolCatalog, access: ToolAccess): void {
  const Id = Type.Optional(JsonRpcId);
  const bodies = {
    "tools/list": Type.Object({ jsonrpc: Type.Optional(Type.Literal("2.0")), id: Id, method: Type.Optional(Type.Literal("tools/list")), params: Type.Optional(Type.Object({ cursor: Type.Optional(Type.String()) })) }),
    "tools/call": Type.Object({
      jsonrpc: Type.Optional(Type.Literal("2.0")),
      id: Id,
      method: Type.Optional(Type.Literal("tools/call")),
      params: Type.Object({ name: Type.String({ minLength: 1, maxLength: 300 }), arguments: Type.Optional(Type.Record(Type.String(), Type.Unknown())) }),
    }),
  };
  for (const method of ["tools/list", "tools/call"] as const) {
    app.post(
      `/v1/mcp/${method}`,
      {
        schema: {
          summary: method === "tools/list" ? "List every MCP tool (JSON-RPC)" : "Call an MCP tool (JSON-RPC)",
          description: `The JSON-RPC ${method} of /v1/mcp on a path of its own; the answer is its JSON-RPC response.`,
          tags,
          body: bodies[method],
        },
        ...(method === "tools/list" ? { preValidation: bodyMayBeOmitted } : {}),
        config: { auth: "inference", body: "inference" },
      },
      async function toolsApi(req, reply) {
        const body = (req.body ?? {}) as { id?: string | number; params?: Record<string, unknown> };
        const filter = await access.filterFor(req.principal);
        const gone = callerGone(reply);
        try {
          const message = { jsonrpc: "2.0", id: body.id ?? 1, method, params: body.params ?? {} };
          const answer = await serveMcp(message, catalog, filter, { caller: req.ip, requestId: String(req.id), signal: gone.signal });
          return (reply as FastifyReply).code(answer.status).type("application/json").send(answer.body);
        } finally {
          gone.release();
        }
      },
    );
  }
}

/** MCP's streamable HTTP lets a server decline GET (an event stream) and DELETE (ending a session) with 405. */
function declineStreamAndSession(app: FastifyInstance, url: string, params: TObject | undefined, why: string): void {
  for (const method of ["GET", "DELETE"] as const) {
    app.route({
      method,
      url,
      schema: {
        summary: method === "GET" ? "No server-sent event stream (405)" : "No sessions to end (405)",
        description: `MCP's streamable HTTP lets a server decline these with 405: ${why}.`,
        tags,
        ...(params ? { params } : {}),
      },
      config: { auth: "public" },
      handler: async function declined() {
        throw new FlotillaError("method_not_allowed", `${method} is not served here: POST JSON-RPC`, { headers: { allow: "POST" } });
      },
    });
  }
}

import { Type } from "@sinclair/typebox";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { modelKey, type ServerNode } from "../fleet/index.js";
import { FlotillaError } from "../kernel/index.js";
import { recordCall, type CallContext, type ProxyDeps } from "./context.js";
import { relay, withServer } from "./forward.js";
import { callContext } from "./request-context.js";
import { OllamaCopyRequest, OllamaModelRef } from "./schemas.js";
import { callUpstream, upstreamStatusError } from "./upstream.js";

type Body = Record<string, unknown>;

function modelOf(body: Body): string {
  const name = body.model ?? body.name;
  if (typeof name !== "string" || !name) throw new FlotillaError("missing_model", 'field "model" is required', { param: "model" });
  return name;
}

/**
 * Where a write goes: the pinned server, or else one fixed choice (the first
 * online polled Ollama server by name) so a blob upload and the create that uses it
 * land on the same server.
 */
function writeTarget(deps: ProxyDeps, ctx: CallContext, what: string): ServerNode {
  if (ctx.pin) {
    const node = deps.fleet.fleet.get(ctx.pin);
    if (!node) throw new FlotillaError("server_not_found", `X-Ollama-Pin-Server names no server: "${ctx.pin}"`);
    return ollamaOnly(node, what);
  }
  const node = [...deps.fleet.fleet.all()]
    .filter((n) => n.up && !n.spec.drained && n.kind === "ollama" && n.polled)
    .sort((a, b) => a.name.localeCompare(b.name))[0];
  if (!node) throw new FlotillaError("no_server_available", `no Ollama server is online for ${what}`);
  return node;
}

function ollamaOnly(node: ServerNode, what: string): ServerNode {
  if (node.kind !== "ollama") {
    throw new FlotillaError("unsupported_operation", `${what} needs an Ollama server; "${node.name}" is an OpenAI-compatible server`);
  }
  if (!node.up) throw new FlotillaError("no_server_available", `server "${node.name}" is down`);
  return node;
}

/**
 * The pinned server, or every online Ollama server that has the model. The
 * polled state may lag (a model created a moment ago), so a miss asks the
 * servers once more before answering 404.
 */
async function holders(deps: ProxyDeps, ctx: CallContext, model: string, what: string): Promise<ServerNode[]> {
  if (ctx.pin) return [writeTarget(deps, ctx, what)];
  const key = modelKey(model);
  const find = () => deps.fleet.fleet.all().filter((n) => n.up && n.kind === "ollama" && n.hasModel(key));
  let nodes = find();
  if (!nodes.length) {
    await deps.fleet.poller.pollOnline();
    nodes = find();
  }
  if (!nodes.length) throw new FlotillaError("model_not_found", `model "${model}" is not on any online Ollama server`, { param: "model" });
  return nodes;
}

/** Sends one write to one server and relays its answer (NDJSON progress or JSON) as is. */
async function relayWrite(deps: ProxyDeps, req: FastifyRequest, reply: FastifyReply, node: ServerNode, method: "POST" | "DELETE" | "HEAD") {
  const ctx = callContext(req, reply);
  const isBlob = req.url.startsWith("/api/blobs/");
  const upstream = await callUpstream(node, {
    method,
    path: req.url,
    body: method === "HEAD" ? undefined : isBlob ? (req.body as NodeJS.ReadableStream) : (req.rawBody ?? JSON.stringify(req.body ?? {})),
    contentType: isBlob ? "application/octet-stream" : undefined,
    requestId: ctx.requestId,
    timeoutMs: deps.config.routing.first_byte_timeout_ms,
  });
  const model = req.body && !isBlob ? String((req.body as Body).model ?? (req.body as Body).name ?? "") : undefined;
  if (upstream.statusCode >= 400 && method !== "HEAD") {
    const err = await upstreamStatusError(node, upstream);
    recordCall(deps, ctx, req.url, model, { status: err.status, server: node.name, error: err.message }, 1);
    throw err;
  }
  const streamed = (req.body as Body | undefined)?.stream !== false && !isBlob && method === "POST";
  await relay(reply, upstream, { "x-request-id": ctx.requestId, "x-flotilla-server": node.name }, streamed, deps.config.limits.stream_idle_timeout_ms);
  recordCall(deps, ctx, req.url, model, { status: upstream.statusCode, server: node.name }, 1);
  if (method === "POST" && !isBlob) void deps.fleet.poller.poll(node);
  return reply;
}

/**
 * A body's `node` field aims a model operation at one node, as
 * X-Ollama-Pin-Server does (the header wins); the field is not sent on.
 */
function nodeFieldPins(req: FastifyRequest, _reply: FastifyReply, done: () => void): void {
  const body = req.body as Body | undefined;
  if (body && typeof body.node === "string") {
    req.headers["x-ollama-pin-server"] ??= body.node;
    delete body.node;
    req.rawBody = undefined;
  }
  done();
}

/**
 * Ollama's /api/pull as a transfer: progress lines go to the client as the
 * node sends them (or only the last, with `stream: false`), and the transfer
 * lists the same progress. A client that goes away stops the pull, as with Ollama.
 */
async function pullAsTransfer(deps: ProxyDeps, ctx: CallContext, reply: FastifyReply, node: ServerNode, model: string, body: Body) {
  const streamed = body.stream !== false;
  const res = reply.raw;
  let wrote = false;
  let last = "";
  const onLine = (line: string) => {
    last = line;
    if (!streamed) return;
    if (!wrote) {
      reply.hijack();
      res.writeHead(200, { "content-type": "application/x-ndjson", "x-request-id": ctx.requestId, "x-flotilla-server": node.name });
      wrote = true;
    }
    res.write(line);
  };
  const { row, done } = await deps.fleet.models.transfers.start(node, model, "pull", { onLine, body, requestId: ctx.requestId });
  const onClose = () => {
    if (!res.writableFinished) void deps.fleet.models.transfers.cancel(row.id);
  };
  res.once("close", onClose);
  const ended = await done;
  res.off("close", onClose);
  recordCall(deps, ctx, "/api/pull", model, { status: ended.status === "completed" ? 200 : 502, server: node.name, error: ended.error ?? undefined }, 1);
  if (wrote) {
    // A pull cut short (the node went away) ends with an error line, as Ollama's own failures do.
    if (ended.status === "failed" && !last.includes('"error"')) res.write(`${JSON.stringify({ error: ended.error })}\n`);
    res.end();
    return reply;
  }
  if (ended.status !== "completed") throw new FlotillaError("upstream_error", `pulling "${model}" on ${node.name} failed: ${ended.error ?? ended.status}`);
  return reply.header("x-flotilla-server", node.name).send(JSON.parse(last || '{"status":"success"}'));
}

/** Runs a write on several servers; succeeds when all do, else names the ones that failed. */
async function fanOut(deps: ProxyDeps, ctx: CallContext, nodes: ServerNode[], method: "POST" | "DELETE", path: string, body: Body) {
  const results = await Promise.all(
    nodes.map(async (node) => {
      const res = await callUpstream(node, { method, path, body: JSON.stringify(body), requestId: ctx.requestId, timeoutMs: deps.config.routing.first_byte_timeout_ms });
      if (res.statusCode >= 400) return { node: node.name, error: await upstreamStatusError(node, res) };
      await res.body.dump();
      void deps.fleet.poller.poll(node);
      return { node: node.name };
    }),
  );
  const failed = results.filter((r) => r.error);
  if (failed.length) {
    const first = failed[0].error as FlotillaError;
    const message = failed.map((f) => f.error?.message).join("; ");
    throw new FlotillaError(first.code, message, { status: first.status });
  }
  return results.map((r) => r.node);
}

export function registerModelOpsRoutes(app: FastifyInstance, deps: ProxyDeps): void {
  const admin = { auth: "admin" as const };
  const tags = ["ollama"];

  app.post(
    "/api/show",
    { schema: { body: OllamaModelRef, summary: "Show a model (from a server that has it)", tags }, preHandler: nodeFieldPins, config: { auth: "inference" } },
    async function showModel(req, reply) {
      const body = req.body as Body;
      const model = modelOf(body);
      const ctx = callContext(req, reply);
      const abort = new AbortController();
      return withServer(deps, ctx, model, abort.signal, new Set(), async (slot) => {
        const { node, upstreamModel } = slot.choice;
        if (node.kind !== "ollama") return synthesizedShow(upstreamModel);
        const res = await callUpstream(node, {
          method: "POST",
          path: "/api/show",
          body: JSON.stringify({ ...body, model: upstreamModel, name: undefined }),
          requestId: ctx.requestId,
          timeoutMs: deps.config.routing.first_byte_timeout_ms,
        });
        if (res.statusCode >= 400) throw await upstreamStatusError(node, res);
        void reply.header("x-flotilla-server", node.name);
        return res.body.json();
      });
    },
  );

  app.post(
    "/api/create",
    { schema: { body: OllamaModelRef, summary: "Create a model on one server (pinned, or the default write server)", tags }, preHandler: nodeFieldPins, config: admin },
    async function createModel(req, reply) {
      modelOf(req.body as Body);
      return relayWrite(deps, req, reply, writeTarget(deps, callContext(req, reply), "/api/create"), "POST");
    },
  );

  app.post(
    "/api/pull",
    {
      schema: { body: OllamaModelRef, summary: "Pull a model onto one node (`node`, pinned, or the default write server); tracked as a transfer", tags },
      preHandler: nodeFieldPins,
      config: admin,
    },
    async function pullModel(req, reply) {
      const body = req.body as Body;
      const model = modelOf(body);
      const ctx = callContext(req, reply);
      return pullAsTransfer(deps, ctx, reply, writeTarget(deps, ctx, "/api/pull"), model, body);
    },
  );

  app.post(
    "/api/push",
    { schema: { body: OllamaModelRef, summary: "Push a model from a server that has it", tags }, preHandler: nodeFieldPins, config: admin },
    async function pushModel(req, reply) {
      const ctx = callContext(req, reply);
      return relayWrite(deps, req, reply, (await holders(deps, ctx, modelOf(req.body as Body), "/api/push"))[0], "POST");
    },
  );

  app.post(
    "/api/copy",
    { schema: { body: OllamaCopyRequest, summary: "Copy a model on every server that has it (or the pinned one)", tags }, preHandler: nodeFieldPins, config: admin },
    async function copyModel(req, reply) {
      const ctx = callContext(req, reply);
      const body = req.body as { source: string; destination: string };
      const servers = await fanOut(deps, ctx, await holders(deps, ctx, body.source, "/api/copy"), "POST", "/api/copy", body);
      recordCall(deps, ctx, "/api/copy", body.source, { status: 200, server: servers.join(",") }, 1);
      return reply.header("x-flotilla-server", servers.join(",")).send();
    },
  );

  app.delete(
    "/api/delete",
    { schema: { body: OllamaModelRef, summary: "Delete a model from every server that has it (or the pinned one)", tags }, preHandler: nodeFieldPins, config: admin },
    async function deleteModel(req, reply) {
      const ctx = callContext(req, reply);
      const model = modelOf(req.body as Body);
      const servers = await fanOut(deps, ctx, await holders(deps, ctx, model, "/api/delete"), "DELETE", "/api/delete", { model });
      recordCall(deps, ctx, "/api/delete", model, { status: 200, server: servers.join(",") }, 1);
      return reply.header("x-flotilla-server", servers.join(",")).send();
    },
  );

  const blobParams = Type.Object({ digest: Type.String({ pattern: "^sha256[:-][0-9a-f]{64}$" }) });
  app.head(
    "/api/blobs/:digest",
    { schema: { params: blobParams, summary: "Whether the write server has a blob", tags }, config: admin },
    async function hasBlob(req, reply) {
      return relayWrite(deps, req, reply, writeTarget(deps, callContext(req, reply), "/api/blobs"), "HEAD");
    },
  );
  app.post(
    "/api/blobs/:digest",
    { schema: { params: blobParams, summary: "Upload a blob to the write server", tags }, config: { ...admin, body: "upload" } },
    async function pushBlob(req, reply) {
      return relayWrite(deps, req, reply, writeTarget(deps, callContext(req, reply), "/api/blobs"), "POST");
    },
  );
}

/** What /api/show can say of a model on an OpenAI-compatible server, which has no such call. */
function synthesizedShow(model: string) {
  return {
    modelfile: "",
    parameters: "",
    template: "",
    details: { parent_model: "", format: "", family: "", families: [], parameter_size: "", quantization_level: "" },
    model_info: {},
    capabilities: ["completion"],
    remote_model: model,
  };
}

import { randomUUID } from "node:crypto";
import { Type } from "@sinclair/typebox";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { callerGone, FlotillaError, ownerOf } from "../kernel/index.js";
import type { ToolAccess, ToolCatalog } from "../mcp/index.js";
import type { ResponseRepo, ResponseRow } from "../store/index.js";
import { BackgroundResponses, type BackgroundOptions } from "./background.js";
import { openEventStream, ResponseEvents, writeEvent } from "./events.js";
import { inputItemsPage, withItemIds } from "./input-items.js";
import { errorEvent, failureOf, LIVE, responseObject, type ResponseStatus } from "./object.js";
import { checkRequest, runResponse } from "./runner.js";
import { InputItemsQuery, ResponseRequest, RetrieveQuery, type InputItem } from "./schema.js";
import { ResponseStreams } from "./streams.js";
import type { ChatMessage } from "./translate.js";

export interface ResponsesOptions {
  maxSteps: number;
  timeLimitMs: number;
  /** Tells the owner's webhooks of each response that ends (`response.completed`, `.incomplete`, `.failed`, `.cancelled`). */
  announce(owner: string, type: string, data: Record<string, unknown>): Promise<void>;
  /** The gateway's job queue: background responses run in a queue of its own. */
  queue: BackgroundOptions["queue"];
  /** The gateway's own key for work it runs for a caller. */
  runnerKey: string;
  /** Background responses run at once on one replica. */
  backgroundConcurrency: number;
}

const tags = ["responses"];
const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 128 }) });
const AResponse = Type.Unknown({ description: "The Response object" });
/** The caller's own credentials, passed to each step so it runs as them. */
const CREDENTIALS = ["authorization", "x-ollama-api-key", "cookie"] as const;

/**
 * OpenAI's Responses API on the fleet (seed 002): `POST /v1/responses` runs
 * the model, calling the gateway's MCP tools itself over several steps;
 * `store` keeps it for `GET`, `DELETE`, `input_items` and
 * `previous_response_id`; `background` runs it as a task of the job queue,
 * to poll, cancel, or follow as a stream kept to replay.
 */
export function registerResponsesRoutes(app: FastifyInstance, repo: ResponseRepo, catalog: ToolCatalog, access: ToolAccess, options: ResponsesOptions): void {
  const deps = { app, catalog, maxSteps: options.maxSteps, timeLimitMs: options.timeLimitMs };
  const streams = new ResponseStreams(repo);
  const background = new BackgroundResponses({
    runner: deps,
    repo,
    access,
    queue: options.queue,
    streams,
    runnerKey: options.runnerKey,
    concurrency: options.backgroundConcurrency,
    announce: options.announce,
    warn: (err, message) => app.log.warn({ err }, message),
  });
  // With the open proxy (no key), callers without one share the owner "anonymous".
  const ownerFor = (req: FastifyRequest) => ownerOf(req.principal) ?? "anonymous";
  const mine = async (req: FastifyRequest, id: string) => {
    const row = await repo.get(id);
    if (!row || row.owner !== ownerFor(req)) throw new FlotillaError("not_found", `no response with id "${id}"`, { param: "response_id" });
    return row;
  };
  /** Follows a background response's kept stream until it ends or the caller goes; the run goes on either way. */
  const follow = async (req: FastifyRequest, reply: FastifyReply, id: string, after: number) => {
    const gone = callerGone(reply);
    reply.hijack();
    openEventStream(reply.raw, String(req.id));
    try {
      await streams.follow(id, after, reply.raw, gone.signal);
    } catch (err) {
      req.log.warn({ err }, "a response's stream could not be read");
    } finally {
      gone.release();
      reply.raw.end();
    }
    return reply;
  };

  app.post(
    "/v1/responses",
    {
      schema: {
        summary: "Create a model response (OpenAI's Responses API), using the gateway's MCP tools over several steps",
        tags,
        body: ResponseRequest,
        response: { 200: Type.Unknown({ description: "A Response object, or with stream: true its events (text/event-stream)" }) },
      },
      config: { auth: "inference", body: "inference" },
    },
    async function createResponse(req, reply) {
      const given = req.body as ResponseRequest;
      const owner = ownerFor(req);
      const previous = given.previous_response_id ? await mine(req, given.previous_response_id) : undefined;
      if (previous && LIVE.includes(previous.status as ResponseStatus)) {
        throw new FlotillaError("invalid_request", `response "${previous.id}" is still ${previous.status}: continue it once it has ended`, { param: "previous_response_id" });
      }
      const history = previous ? (JSON.parse(previous.history) as ChatMessage[]) : [];
      // The request as run and kept: its input items with ids, which input_items lists.
      const request: ResponseRequest = { ...given, input: withItemIds(given.input) };
      const id = `resp_${randomUUID().replace(/-/g, "")}`;
      const createdAt = Math.floor(Date.now() / 1000);
      const row = (status: string, response: object, messages: ChatMessage[]): ResponseRow => ({
        id,
        owner,
        status,
        response: JSON.stringify(response),
        history: JSON.stringify(messages),
        request: JSON.stringify(request),
        background: request.background ? 1 : 0,
        task_id: null,
        event_count: 0,
        created_at: createdAt * 1000,
        updated_at: Date.now(),
      });

      if (request.background) {
        if (request.store === false) throw new FlotillaError("invalid_request", "a background response is stored while it runs: leave store out, or set it to true", { param: "background" });
        const principal = req.principal;
        if (principal && (principal.keyId === undefined || principal.role === "guest")) {
          throw new FlotillaError("unsupported_operation", "a background response runs after this request, as the API key that made it: make it with an API key (Authorization: Bearer <key>), or leave background out", { param: "background" });
        }
        checkRequest(request);
        const queued = responseObject(id, createdAt, request, "queued");
        await background.start(row("queued", queued, history), queued, request.stream === true, { key_id: principal?.keyId ?? null, caller: req.ip, request_id: String(req.id) });
        return request.stream ? follow(req, reply, id, -1) : queued;
      }

      const headers: Record<string, string> = {};
      for (const name of CREDENTIALS) if (typeof req.headers[name] === "string") headers[name] = req.headers[name] as string;
      const gone = callerGone(reply);
      const ctx = { headers, requestId: String(req.id), caller: req.ip, filter: await access.filterFor(req.principal), signal: gone.signal, history };
      const keep = async (status: ResponseStatus, response: object, messages: ChatMessage[]) => {
        if (request.store !== false) await repo.put(row(status, response, messages));
        void options.announce(owner, `response.${status}`, { id }).catch((err: Error) => req.log.warn({ err }, "response webhooks"));
      };
      try {
        if (!request.stream) {
          const run = await runResponse(deps, request, ctx);
          const response = responseObject(id, createdAt, request, run.status, run);
          await keep(run.status, response, run.history);
          return response;
        }
        let sequence = 0;
        const events = new ResponseEvents((event) => writeEvent(reply.raw, event, sequence++));
        reply.hijack();
        openEventStream(reply.raw, String(req.id));
        const started = responseObject(id, createdAt, request, "in_progress");
        events.send("response.created", { response: started });
        events.send("response.in_progress", { response: started });
        try {
          const run = await runResponse(deps, request, {
            ...ctx,
            onItem: (item) => events.item(item),
            onText: { start: (itemId) => events.textStart(itemId), delta: (itemId, text) => events.textDelta(itemId, text) },
          });
          const response = responseObject(id, createdAt, request, run.status, run);
          await keep(run.status, response, run.history);
          events.send(run.status === "incomplete" ? "response.incomplete" : "response.completed", { response });
        } catch (err) {
          const failure = failureOf(err);
          if (failure.code === "internal_error") req.log.error({ err }, "a streamed response failed");
          const response = responseObject(id, createdAt, request, "failed", { output: [], usage: null, error: { code: failure.code, message: failure.message }, incomplete_details: null });
          await keep("failed", response, history).catch(() => undefined);
          const { type, ...fields } = errorEvent(failure);
          events.send(type, fields);
          events.send("response.failed", { response });
        }
        reply.raw.end();
        return reply;
      } finally {
        gone.release();
      }
    },
  );

  app.get(
    "/v1/responses/:id",
    {
      schema: {
        summary: "A stored response; with stream=true, a background response's events (from starting_after), followed until it ends",
        tags,
        params: IdParams,
        querystring: RetrieveQuery,
        response: { 200: Type.Unknown({ description: "The Response object, or its events (text/event-stream)" }) },
      },
      config: { auth: "inference" },
    },
    async function getResponse(req, reply) {
      const row = await mine(req, (req.params as { id: string }).id);
      const query = req.query as RetrieveQuery;
      if (!query.stream) return reply.type("application/json").send(row.response);
      if (!row.background) throw new FlotillaError("invalid_request", "This response cannot be streamed because it was not created with background=true.", { param: "stream" });
      if (row.event_count === 0) throw new FlotillaError("invalid_request", "This response cannot be streamed because it was not created with stream=true.", { param: "stream" });
      return follow(req, reply, row.id, query.starting_after ?? -1);
    },
  );

  app.post(
    "/v1/responses/:id/cancel",
    { schema: { summary: "Cancel a background response that has not ended", tags, params: IdParams, response: { 200: AResponse } }, config: { auth: "inference" } },
    async function cancelResponse(req) {
      return background.cancel(await mine(req, (req.params as { id: string }).id));
    },
  );

  app.get(
    "/v1/responses/:id/input_items",
    {
      schema: { summary: "The input items of a stored response, a page at a time", tags, params: IdParams, querystring: InputItemsQuery, response: { 200: Type.Unknown({ description: "A list of input items" }) } },
      config: { auth: "inference" },
    },
    async function listInputItems(req) {
      const row = await mine(req, (req.params as { id: string }).id);
      // Responses stored before their requests were kept list none.
      const items = row.request ? ((JSON.parse(row.request) as ResponseRequest).input as InputItem[]) : [];
      return inputItemsPage(items, req.query as InputItemsQuery);
    },
  );

  app.delete(
    "/v1/responses/:id",
    { schema: { summary: "Delete a stored response (a background one still running is stopped)", tags, params: IdParams, response: { 200: Type.Object({ id: Type.String(), object: Type.Literal("response.deleted"), deleted: Type.Boolean() }) } }, config: { auth: "inference" } },
    async function deleteResponse(req) {
      const row = await mine(req, (req.params as { id: string }).id);
      await background.remove(row);
      return { id: row.id, object: "response.deleted" as const, deleted: true };
    },
  );
}

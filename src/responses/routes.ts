import { randomUUID } from "node:crypto";
import { Type } from "@sinclair/typebox";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { callerGone, FlotillaError, isFlotillaError, ownerOf } from "../kernel/index.js";
import type { ToolAccess, ToolCatalog } from "../mcp/index.js";
import type { ResponseRepo } from "../store/index.js";
import { ResponseEvents } from "./events.js";
import { runResponse, type RunResult } from "./runner.js";
import { ResponseRequest } from "./schema.js";
import type { ChatMessage } from "./translate.js";

export interface ResponsesOptions {
  maxSteps: number;
  timeLimitMs: number;
  /** Tells the owner's webhooks of each response that ends (`response.completed`, `.incomplete`, `.failed`). */
  announce(owner: string, type: string, data: Record<string, unknown>): Promise<void>;
}

const tags = ["responses"];
const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 128 }) });
/** The caller's own credentials, passed to each step so it runs as them. */
const CREDENTIALS = ["authorization", "x-ollama-api-key", "cookie"] as const;

/** What a streamed response that failed says of why: its own error, a stop (the caller went away), or an internal one. */
function failureOf(err: unknown): FlotillaError {
  if (isFlotillaError(err)) return err;
  if ((err as Error)?.name === "AbortError") return new FlotillaError("request_timeout", "the response was stopped before it was done", { cause: err });
  return new FlotillaError("internal_error", "internal error", { cause: err });
}

/** The Response object, with every field the API sends (null where it has nothing), so the SDKs parse it. */
function responseObject(id: string, createdAt: number, request: ResponseRequest, status: string, run?: Pick<RunResult, "output" | "error" | "incomplete_details"> & { usage: RunResult["usage"] | null }) {
  return {
    id,
    object: "response" as const,
    created_at: createdAt,
    status,
    background: false,
    error: run?.error ?? null,
    incomplete_details: run?.incomplete_details ?? null,
    instructions: request.instructions ?? null,
    max_output_tokens: request.max_output_tokens ?? null,
    model: request.model,
    output: run?.output ?? [],
    parallel_tool_calls: request.parallel_tool_calls ?? true,
    previous_response_id: request.previous_response_id ?? null,
    reasoning: { effort: null, summary: null },
    store: request.store !== false,
    temperature: request.temperature ?? null,
    text: { format: request.text?.format ?? { type: "text" } },
    tool_choice: request.tool_choice ?? "auto",
    tools: request.tools ?? [],
    top_p: request.top_p ?? null,
    truncation: "disabled",
    usage: run?.usage ?? null,
    user: request.user ?? null,
    metadata: request.metadata ?? {},
  };
}

/**
 * OpenAI's Responses API on the fleet (seed 002): `POST /v1/responses` runs
 * the model, calling the gateway's MCP tools itself over several steps;
 * `store` keeps it for `GET`, `DELETE` and `previous_response_id`.
 */
export function registerResponsesRoutes(app: FastifyInstance, repo: ResponseRepo, catalog: ToolCatalog, access: ToolAccess, options: ResponsesOptions): void {
  const deps = { app, catalog, maxSteps: options.maxSteps, timeLimitMs: options.timeLimitMs };
  // With the open proxy (no key), callers without one share the owner "anonymous".
  const ownerFor = (req: FastifyRequest) => ownerOf(req.principal) ?? "anonymous";
  const mine = async (req: FastifyRequest, id: string) => {
    const row = await repo.get(id);
    if (!row || row.owner !== ownerFor(req)) throw new FlotillaError("not_found", `no response with id "${id}"`, { param: "response_id" });
    return row;
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
      const request = req.body as ResponseRequest;
      if (request.background) throw new FlotillaError("unsupported_operation", "background responses are not supported yet: leave background out, or queue a chat completion (POST /queue/add)", { param: "background" });
      const owner = ownerFor(req);
      const history = request.previous_response_id ? (JSON.parse((await mine(req, request.previous_response_id)).history) as ChatMessage[]) : [];
      const headers: Record<string, string> = {};
      for (const name of CREDENTIALS) if (typeof req.headers[name] === "string") headers[name] = req.headers[name] as string;
      const id = `resp_${randomUUID().replace(/-/g, "")}`;
      const createdAt = Math.floor(Date.now() / 1000);
      const gone = callerGone(reply);
      const ctx = { headers, requestId: String(req.id), caller: req.ip, filter: await access.filterFor(req.principal), signal: gone.signal, history };
      const keep = async (status: string, response: object, messages: ChatMessage[]) => {
        if (request.store !== false) {
          await repo.put({ id, owner, status, response: JSON.stringify(response), history: JSON.stringify(messages), request: null, background: 0, task_id: null, event_count: 0, created_at: createdAt * 1000, updated_at: Date.now() });
        }
        void options.announce(owner, `response.${status}`, { id }).catch((err: Error) => req.log.warn({ err }, "response webhooks"));
      };
      try {
        if (!request.stream) {
          const run = await runResponse(deps, request, ctx);
          const response = responseObject(id, createdAt, request, run.status, run);
          await keep(run.status, response, run.history);
          return response;
        }
        const events = new ResponseEvents(reply.raw);
        reply.hijack();
        events.open(String(req.id));
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
          const error = { code: failure.code, message: failure.message };
          const response = responseObject(id, createdAt, request, "failed", { output: [], usage: null, error, incomplete_details: null });
          await keep("failed", response, history).catch(() => undefined);
          events.send("error", { code: failure.code, message: failure.message, param: failure.param ?? null, error: { type: failure.type, ...error, param: failure.param ?? null } });
          events.send("response.failed", { response });
        }
        events.end();
        return reply;
      } finally {
        gone.release();
      }
    },
  );

  app.get(
    "/v1/responses/:id",
    { schema: { summary: "A stored response", tags, params: IdParams, response: { 200: Type.Unknown({ description: "The Response object" }) } }, config: { auth: "inference" } },
    async function getResponse(req, reply) {
      const row = await mine(req, (req.params as { id: string }).id);
      return (reply as FastifyReply).type("application/json").send(row.response);
    },
  );

  app.delete(
    "/v1/responses/:id",
    { schema: { summary: "Delete a stored response", tags, params: IdParams, response: { 200: Type.Object({ id: Type.String(), object: Type.Literal("response.deleted"), deleted: Type.Boolean() }) } }, config: { auth: "inference" } },
    async function deleteResponse(req) {
      const row = await mine(req, (req.params as { id: string }).id);
      await repo.remove(row.id);
      return { id: row.id, object: "response.deleted" as const, deleted: true };
    },
  );
}

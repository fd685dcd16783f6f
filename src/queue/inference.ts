import type { FastifyInstance } from "fastify";
import type { TaskRow } from "../store/index.js";
import { batchTurn, TASK_KEY_HEADER } from "../kernel/index.js";
import { PermanentTaskError, type TaskRunner } from "./service.js";

type Api = "openai" | "ollama";

/** Which endpoint a task's request goes to, from its `api` and its fields (or `endpoint`). */
const ENDPOINTS: Record<Api, Record<string, string>> = {
  openai: { chat: "/v1/chat/completions", completions: "/v1/completions", embeddings: "/v1/embeddings" },
  ollama: { chat: "/api/chat", generate: "/api/generate", embed: "/api/embed", embeddings: "/api/embeddings" },
};

function endpointOf(api: Api, body: Record<string, unknown>, named: unknown): string {
  if (typeof named === "string") {
    const path = ENDPOINTS[api][named];
    if (!path) throw new PermanentTaskError(`endpoint "${named}" is not one of ${Object.keys(ENDPOINTS[api]).join(", ")} for api ${api}`);
    return path;
  }
  if ("messages" in body) return ENDPOINTS[api].chat;
  if ("input" in body) return api === "openai" ? ENDPOINTS.openai.embeddings : ENDPOINTS.ollama.embed;
  if ("prompt" in body) return api === "openai" ? ENDPOINTS.openai.completions : ENDPOINTS.ollama.generate;
  throw new PermanentTaskError("the task's request has no messages, prompt or input: say which endpoint");
}

/** A task's data as the request it stands for: `{api, endpoint?, ...request}`, never streamed. */
export function taskRequest(task: TaskRow): { path: string; body: Record<string, unknown> } {
  const data = JSON.parse(task.data) as unknown;
  if (!data || typeof data !== "object" || Array.isArray(data)) throw new PermanentTaskError("a task of a gateway queue carries a request object as its data");
  const { api = "openai", endpoint, ...body } = data as Record<string, unknown>;
  if (api !== "openai" && api !== "ollama") throw new PermanentTaskError(`api must be openai or ollama, not ${String(api)}`);
  return { path: endpointOf(api, body, endpoint), body: { ...body, stream: false } };
}

/**
 * Runs inference tasks through the gateway's own routes, in process: the
 * same auth, translation, routing and records as a client's request, as the
 * key that queued the task (its budget, its usage), at batch priority, so a
 * task only takes a slot interactive traffic leaves free.
 */
export function inferenceRunner(app: FastifyInstance, bearer: string, stopRequest: (requestId: string) => void): TaskRunner {
  return async function runInference(task, _spec, signal) {
    const { path, body } = taskRequest(task);
    // A cancel or timeout stops the request (the task's id is its request id), and with it the server's work.
    const stop = () => stopRequest(task.id);
    signal.addEventListener("abort", stop, { once: true });
    // Sending the request and reading its answer are steps of batch work: each waits its turn of the event loop.
    await batchTurn();
    const res = await app.inject({
      method: "POST",
      url: path,
      headers: {
        authorization: `Bearer ${bearer}`,
        "content-type": "application/json",
        "x-flotilla-priority": "batch",
        "x-ollama-source": `queue:${task.queue}`,
        "x-request-id": task.id,
        // It runs as the key that queued it: that key's budget applies and its usage is recorded.
        ...(task.key_id ? { [TASK_KEY_HEADER]: task.key_id } : {}),
      },
      payload: JSON.stringify(body),
    }).finally(() => signal.removeEventListener("abort", stop));
    await batchTurn();
    const answer = res.body ? (JSON.parse(res.body) as unknown) : null;
    if (res.statusCode < 400) return answer;
    const message = `${res.statusCode}: ${errorText(answer) ?? res.body}`;
    // A request the server refuses as wrong fails for good; overload and upstream trouble are retried.
    if (res.statusCode < 500 && res.statusCode !== 408 && res.statusCode !== 429 && res.statusCode !== 404) throw new PermanentTaskError(message);
    throw new Error(message);
  };
}

function errorText(body: unknown): string | undefined {
  const error = (body as { error?: unknown } | null)?.error;
  if (typeof error === "string") return error;
  return (error as { message?: string } | undefined)?.message;
}

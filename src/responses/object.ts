import { FlotillaError, isFlotillaError } from "../kernel/index.js";
import type { StreamEvent } from "./events.js";
import type { RunResult } from "./runner.js";
import type { ResponseRequest } from "./schema.js";

/** Where a response is: waiting for its turn and running (a background one), or ended. */
export type ResponseStatus = "queued" | "in_progress" | "completed" | "incomplete" | "failed" | "cancelled";

/** The statuses of a response still to end. */
export const LIVE: readonly ResponseStatus[] = ["queued", "in_progress"];

type Outcome = Pick<RunResult, "output" | "error" | "incomplete_details"> & { usage: RunResult["usage"] | null };

/** The Response object, with every field the API sends (null where it has nothing), so the SDKs parse it. */
export function responseObject(id: string, createdAt: number, request: ResponseRequest, status: ResponseStatus, run?: Outcome) {
  return {
    id,
    object: "response" as const,
    created_at: createdAt,
    status,
    background: request.background === true,
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

export type ResponseObject = ReturnType<typeof responseObject>;

/** What a response that failed says of why: its own error, a stop (the caller went away), or an internal one. */
export function failureOf(err: unknown): FlotillaError {
  if (isFlotillaError(err)) return err;
  if ((err as Error)?.name === "AbortError") return new FlotillaError("request_timeout", "the response was stopped before it was done", { cause: err });
  return new FlotillaError("internal_error", "internal error", { cause: err });
}

/** The `error` event a stream tells a failure with, before its `response.failed`. */
export function errorEvent(failure: FlotillaError): StreamEvent {
  const param = failure.param ?? null;
  return { type: "error", code: failure.code, message: failure.message, param, error: { type: failure.type, code: failure.code, message: failure.message, param } };
}

/** The events that end a response's stream; a cancelled one ends with `response.failed`, as OpenAI ends it. */
export function endEvents(response: ResponseObject, failure?: FlotillaError): StreamEvent[] {
  switch (response.status) {
    case "completed":
      return [{ type: "response.completed", response }];
    case "incomplete":
      return [{ type: "response.incomplete", response }];
    case "failed":
      return [errorEvent(failure ?? new FlotillaError("internal_error", response.error?.message ?? "internal error")), { type: "response.failed", response }];
    default:
      return [{ type: "response.failed", response }];
  }
}

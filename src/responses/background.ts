import { FlotillaError, TASK_KEY_HEADER } from "../kernel/index.js";
import type { ToolAccess } from "../mcp/index.js";
import type { Queues, QueueSpec } from "../queue/index.js";
import type { ResponseRepo, ResponseRow, TaskRow } from "../store/index.js";
import { ResponseEvents, type StreamEvent } from "./events.js";
import { endEvents, failureOf, LIVE, responseObject, type ResponseObject, type ResponseStatus } from "./object.js";
import { Progress } from "./progress.js";
import { runResponse, type RunnerDeps } from "./runner.js";
import type { ResponseRequest } from "./schema.js";
import type { ResponseStreams } from "./streams.js";
import type { ChatMessage } from "./translate.js";

/** The gateway's own queue that runs background responses. */
export const BACKGROUND_QUEUE = "flotilla.responses";
/** What a run's task is given beyond the response's own time limit, to write how it ended, before the queue stops it. */
const TASK_SLACK_SECS = 30;
/** A task's attempt after the first finds its response interrupted and fails it, so one is enough; the others outlast a failing store. */
const TASK_RETRIES = 3;

/** What a background response's task carries: the response, and whom and where from it runs for. */
interface TaskData {
  response_id: string;
  /** The caller's key, which the run acts as; null for the open proxy's callers without one. */
  key_id: string | null;
  caller: string;
  request_id: string;
}

export interface BackgroundOptions {
  runner: RunnerDeps;
  repo: ResponseRepo;
  access: ToolAccess;
  queue: Pick<Queues, "addOwnQueue" | "enqueue" | "cancel" | "on">;
  streams: ResponseStreams;
  /** The gateway's own key for work it runs for a caller: with the caller's key id, it acts as that key. */
  runnerKey: string;
  /** Background responses run at once on one replica. */
  concurrency: number;
  announce(owner: string, type: string, data: Record<string, unknown>): Promise<void>;
  warn(err: Error, message: string): void;
}

const INTERRUPTED = () => new FlotillaError("shutting_down", "the gateway that ran this response stopped before it ended; it is not run again, as its tool calls may have had their effects");

/** Whether a response keeps its stream's events: one made with `stream: true` keeps them from its first. */
const keepsEvents = (row: ResponseRow) => row.event_count > 0;

/**
 * Background responses (`background: true`): stored as queued and run as
 * tasks of the gateway's own queue, as the key that made them (its budget,
 * its usage, its MCP tools), surviving a restart while queued. A run
 * interrupted by a restart or a lost lease is failed by the task's next
 * attempt, never run again, since its tool calls may have had effects.
 */
export class BackgroundResponses {
  constructor(private readonly o: BackgroundOptions) {
    const spec: QueueSpec = {
      name: BACKGROUND_QUEUE,
      priority: 5,
      mode: "one_shot",
      consumer: "gateway",
      concurrency: Math.min(1024, o.concurrency),
      timeout_secs: Math.ceil(o.runner.timeLimitMs / 1000) + TASK_SLACK_SECS,
      retries: TASK_RETRIES,
      backoff_ms: 1000,
      dead_letter: false,
    };
    o.queue.addOwnQueue(spec, (task, _spec, signal) => this.run(task, signal));
    o.queue.on("ended", (task) => this.taskEnded(task));
  }

  /** Stores a new background response, queued (with its stream's first events when it streams), and queues its run. */
  async start(row: ResponseRow, queued: ResponseObject, stream: boolean, task: Omit<TaskData, "response_id">): Promise<void> {
    const events: StreamEvent[] = stream ? [{ type: "response.created", response: queued }, { type: "response.queued", response: queued }] : [];
    await this.o.repo.insert(row, events.map((e) => JSON.stringify(e)));
    try {
      const { id } = await this.o.queue.enqueue({ queue: BACKGROUND_QUEUE, data: { response_id: row.id, ...task } satisfies TaskData });
      await this.o.repo.setTask(row.id, id);
    } catch (err) {
      // Not queued, never run: the caller is told so, and no response is left waiting.
      await this.o.repo.remove(row.id).catch(() => undefined);
      throw err;
    }
  }

  /** Cancels a background response that has not ended (a cancelled one answers as it is); a response that ended otherwise is refused as OpenAI refuses it. */
  async cancel(row: ResponseRow): Promise<ResponseObject> {
    if (!row.background) throw new FlotillaError("invalid_request", "Cannot cancel a synchronous response.", { param: "response_id" });
    for (let current: ResponseRow | undefined = row; current; current = await this.o.repo.get(row.id)) {
      if (current.status === "cancelled") return JSON.parse(current.response) as ResponseObject;
      if (!LIVE.includes(current.status as ResponseStatus)) throw new FlotillaError("invalid_request", `Cannot cancel ${current.status === "incomplete" ? "an" : "a"} ${current.status} response.`, { param: "response_id" });
      const cancelled = await this.end(current, "cancelled");
      if (cancelled) {
        await this.stopTask(current);
        return cancelled;
      }
    }
    throw new FlotillaError("not_found", `no response with id "${row.id}"`, { param: "response_id" });
  }

  /** Deletes a response; a background one still running is stopped first. */
  async remove(row: ResponseRow): Promise<void> {
    if (LIVE.includes(row.status as ResponseStatus)) await this.stopTask(row);
    await this.o.repo.remove(row.id);
    this.o.streams.moved(row.id);
  }

  private async stopTask(row: ResponseRow): Promise<void> {
    // A run that misses this stops at its next write, which finds the response moved on.
    if (row.task_id) await this.o.queue.cancel(row.task_id).catch((err: Error) => this.o.warn(err, `response ${row.id}: its task could not be cancelled`));
  }

  /**
   * Ends a response not yet ended as `status`, its stream's last events kept with it; tells its followers and
   * its owner's webhooks. The response as ended, or undefined when another ended it first.
   */
  private async end(row: ResponseRow, status: "failed" | "cancelled", failure?: FlotillaError): Promise<ResponseObject | undefined> {
    const current = JSON.parse(row.response) as ResponseObject;
    const why = failure ?? INTERRUPTED();
    const response: ResponseObject = status === "cancelled" ? { ...current, status, output: [] } : { ...current, status, error: { code: why.code, message: why.message } };
    const events = keepsEvents(row) ? endEvents(response, why).map((e) => JSON.stringify(e)) : [];
    if (!(await this.o.repo.advance(row.id, LIVE, { status, response: JSON.stringify(response) }, events, Date.now()))) return undefined;
    this.ended(row, response);
    return response;
  }

  private ended(row: ResponseRow, response: ResponseObject): void {
    this.o.streams.moved(row.id);
    void this.o.announce(row.owner, `response.${response.status}`, { id: row.id }).catch((err: Error) => this.o.warn(err, "response webhooks"));
  }

  /** A task that ended without its response ending (cancelled through the queue's API, or out of attempts) ends the response. */
  private taskEnded(task: TaskRow): void {
    if (task.queue !== BACKGROUND_QUEUE || !["failed", "archived", "cancelled"].includes(task.state)) return;
    void (async () => {
      const row = await this.o.repo.get((JSON.parse(task.data) as TaskData).response_id);
      if (!row || !LIVE.includes(row.status as ResponseStatus)) return;
      if (task.state === "cancelled") await this.end(row, "cancelled");
      else await this.end(row, "failed", new FlotillaError("internal_error", `its run failed: ${task.error ?? "unknown error"}`));
    })().catch((err: Error) => this.o.warn(err, `response of task ${task.id}`));
  }

  /** One attempt of a background response's task: runs a queued response to its end; fails one that an earlier attempt left running. */
  private async run(task: TaskRow, signal: AbortSignal): Promise<unknown> {
    const data = JSON.parse(task.data) as TaskData;
    const row = await this.o.repo.get(data.response_id);
    if (row?.status === "in_progress") return { status: (await this.end(row, "failed", INTERRUPTED()))?.status ?? "ended" };
    if (row?.status !== "queued") return { status: row?.status ?? "deleted" };
    const request = JSON.parse(row.request ?? "{}") as ResponseRequest;
    const createdAt = Math.floor(row.created_at / 1000);
    const started = responseObject(row.id, createdAt, request, "in_progress");
    const first: StreamEvent[] = keepsEvents(row) ? [{ type: "response.in_progress", response: started }] : [];
    if (!(await this.o.repo.advance(row.id, ["queued"], { status: "in_progress", response: JSON.stringify(started) }, first.map((e) => JSON.stringify(e)), Date.now()))) return { status: "ended" };
    this.o.streams.moved(row.id);

    // Stopped by the queue (a cancel, a restart, a lost lease) or by a write that finds the response moved on.
    const stop = new AbortController();
    const stopWithTask = () => stop.abort();
    signal.addEventListener("abort", stopWithTask, { once: true });
    const progress = new Progress(this.o.repo, row.id, started, { moved: () => this.o.streams.moved(row.id), stop: () => stop.abort(), warn: (err) => this.o.warn(err, `response ${row.id}: progress not written`) });
    const events = keepsEvents(row) ? new ResponseEvents((e) => progress.event(e)) : undefined;
    let response: ResponseObject;
    let history: ChatMessage[] | undefined;
    let failure: FlotillaError | undefined;
    try {
      const run = await runResponse(this.o.runner, request, {
        // It runs as the caller's key: its budget, usage and records; the open proxy's callers without a key run as they came.
        headers: data.key_id ? { authorization: `Bearer ${this.o.runnerKey}`, [TASK_KEY_HEADER]: data.key_id } : {},
        requestId: data.request_id,
        caller: data.caller,
        // The key's MCP tools: only its id decides them.
        filter: await this.o.access.filterFor(data.key_id ? { role: "user", via: "key", keyId: data.key_id, forTask: true } : undefined),
        signal: stop.signal,
        history: JSON.parse(row.history) as ChatMessage[],
        onItem: (item) => {
          events?.item(item);
          progress.item(item);
        },
        onText: events && { start: (itemId) => events.textStart(itemId), delta: (itemId, text) => events.textDelta(itemId, text) },
      });
      response = responseObject(row.id, createdAt, request, run.status, run);
      history = run.history;
    } catch (err) {
      if (stop.signal.aborted) {
        // Cancelled or deleted meanwhile, or this attempt was stopped: the next one fails the response.
        progress.close();
        return { status: "stopped" };
      }
      failure = failureOf(err);
      if (failure.code === "internal_error") this.o.warn(err as Error, `background response ${row.id} failed`);
      response = responseObject(row.id, createdAt, request, "failed", { output: progress.output, usage: null, error: { code: failure.code, message: failure.message }, incomplete_details: null });
    } finally {
      signal.removeEventListener("abort", stopWithTask);
    }
    const change = { status: response.status, response: JSON.stringify(response), ...(history ? { history: JSON.stringify(history) } : {}) };
    if (await progress.end(change, keepsEvents(row) ? endEvents(response, failure) : [])) this.ended(row, response);
    return { status: response.status };
  }
}

import type { FlotillaError } from "../kernel/index.js";
import { randomUUID } from "node:crypto";
import { EventEmitter } from "node:events";
import type { Store, TransferRow, TransferSource } from "../store/index.js";
import type { ServerNode } from "./node.js";
import type { UpstreamResponse } from "./transport.js";

/** How a transfer talks to its node (the proxy's upstream call: credentials, request id, errors). */
export type NodeCall = (node: ServerNode, call: { method: "POST" | "DELETE"; path: string; body: string; requestId: string; signal?: AbortSignal; timeoutMs: number }) => Promise<UpstreamResponse>;
/** An error status from the node, as the error to report. */
export type StatusError = (node: ServerNode, res: UpstreamResponse) => Promise<FlotillaError>;

export interface TransfersOptions {
  /** Time allowed for the node's answer to begin, and between progress lines. */
  timeoutMs: number;
  /** Progress is written to the database at most this often (and at every end). */
  writeEveryMs: number;
  onError(err: unknown): void;
}

/** One progress line of Ollama's /api/pull. */
interface PullLine {
  status?: string;
  digest?: string;
  total?: number;
  completed?: number;
  error?: string;
}

interface Running {
  row: TransferRow;
  abort: AbortController;
  done: Promise<TransferRow>;
}

/**
 * Every pull is a transfer: its progress (bytes, stage) is kept in the
 * database, so any replica lists it, and a cancel asked of any replica
 * reaches the one running it at its next progress write.
 */
export class Transfers extends EventEmitter<{ update: [TransferRow] }> {
  private readonly running = new Map<string, Running>();

  constructor(
    private readonly store: Store,
    private readonly call: NodeCall,
    private readonly statusError: StatusError,
    private readonly afterPull: (node: ServerNode) => Promise<void>,
    private readonly options: TransfersOptions,
  ) {
    super();
  }

  /**
   * Starts pulling `model` onto `node`. `onLine` gets each progress line as
   * the node sent it (for a client of Ollama's /api/pull). Resolves once the
   * transfer is recorded; `done` when it ends, whichever way.
   */
  async start(node: ServerNode, model: string, source: TransferSource, options: { onLine?: (line: string) => void; body?: Record<string, unknown>; requestId?: string } = {}): Promise<{ row: TransferRow; done: Promise<TransferRow> }> {
    const now = Date.now();
    const row: TransferRow = {
      id: `tr_${randomUUID().replace(/-/g, "")}`,
      model,
      node: node.name,
      source,
      status: "running",
      stage: "starting",
      completed_bytes: 0,
      total_bytes: 0,
      error: null,
      cancel_requested: 0,
      created_at: now,
      updated_at: now,
    };
    await this.store.transfers.insert(row);
    const abort = new AbortController();
    const entry = { row, abort } as Running;
    entry.done = this.run(entry, node, options).finally(() => this.running.delete(row.id));
    this.running.set(row.id, entry);
    this.emit("update", { ...row });
    return { row: { ...row }, done: entry.done };
  }

  /** Stops a running transfer here, or asks the replica running it to. Undefined when there is no such transfer. */
  async cancel(id: string): Promise<TransferRow | undefined> {
    const here = this.running.get(id);
    if (here) {
      here.abort.abort();
      return here.done;
    }
    await this.store.transfers.requestCancel(id);
    return this.store.transfers.get(id);
  }

  /** The live state of a transfer running here, else the stored one. */
  async get(id: string): Promise<TransferRow | undefined> {
    const here = this.running.get(id);
    return here ? { ...here.row } : this.store.transfers.get(id);
  }

  /** The transfers running on this replica, as they are now. */
  runningNow(): TransferRow[] {
    return [...this.running.values()].map((e) => ({ ...e.row }));
  }

  async list(limit = 200): Promise<TransferRow[]> {
    return (await this.store.transfers.list(limit)).map((row) => (this.running.has(row.id) ? { ...(this.running.get(row.id) as Running).row } : row));
  }

  private async run(entry: Running, node: ServerNode, options: { onLine?: (line: string) => void; body?: Record<string, unknown>; requestId?: string }): Promise<TransferRow> {
    const { row, abort } = entry;
    const layers = new Map<string, { total: number; completed: number }>();
    let lastWrite = 0;
    const progress = async (force: boolean) => {
      row.updated_at = Date.now();
      this.emit("update", { ...row });
      if (!force && row.updated_at - lastWrite < this.options.writeEveryMs) return;
      lastWrite = row.updated_at;
      const { status, stage, completed_bytes, total_bytes, error, updated_at } = row;
      const { cancelRequested } = await this.store.transfers.update(row.id, { status, stage, completed_bytes, total_bytes, error, updated_at });
      if (cancelRequested && row.status === "running") abort.abort();
    };
    try {
      const res = await this.call(node, {
        method: "POST",
        path: "/api/pull",
        body: JSON.stringify({ ...options.body, model: row.model, name: undefined, stream: true }),
        requestId: options.requestId ?? row.id,
        signal: abort.signal,
        timeoutMs: this.options.timeoutMs,
      });
      if (res.statusCode >= 400) throw await this.statusError(node, res);
      let buffered = "";
      for await (const chunk of res.body) {
        buffered += chunk.toString("utf8");
        let newline: number;
        while ((newline = buffered.indexOf("\n")) >= 0) {
          const text = buffered.slice(0, newline);
          buffered = buffered.slice(newline + 1);
          if (text.trim() === "") continue;
          options.onLine?.(`${text}\n`);
          this.apply(row, layers, JSON.parse(text) as PullLine);
          await progress(false);
        }
      }
      if (row.status === "running") throw new Error(`the pull ended before it said success (last: ${row.stage ?? "nothing"})`);
      if (row.status === "completed") await this.afterPull(node).catch(() => undefined);
    } catch (err) {
      if (row.status === "running") {
        row.status = abort.signal.aborted ? "cancelled" : "failed";
        row.error = abort.signal.aborted ? null : (err as Error).message;
      }
    }
    await progress(true).catch(this.options.onError);
    return { ...row };
  }

  /** Folds one progress line into the transfer: per-layer bytes add up; `success` or `error` ends it. */
  private apply(row: TransferRow, layers: Map<string, { total: number; completed: number }>, line: PullLine): void {
    if (line.error) {
      row.status = "failed";
      row.error = line.error;
      return;
    }
    if (line.status) row.stage = line.status;
    if (line.digest && typeof line.total === "number") {
      const layer = layers.get(line.digest) ?? { total: 0, completed: 0 };
      layer.total = line.total;
      layer.completed = Math.max(layer.completed, line.completed ?? 0);
      layers.set(line.digest, layer);
      row.total_bytes = [...layers.values()].reduce((sum, l) => sum + l.total, 0);
      row.completed_bytes = [...layers.values()].reduce((sum, l) => sum + l.completed, 0);
    }
    if (line.status === "success") {
      row.status = "completed";
      row.completed_bytes = row.total_bytes;
    }
  }

  /** Stops every transfer running here (shutdown); their rows say cancelled. */
  async close(): Promise<void> {
    const running = [...this.running.values()];
    for (const entry of running) entry.abort.abort();
    await Promise.all(running.map((e) => e.done));
  }
}

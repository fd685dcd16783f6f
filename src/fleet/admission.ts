import { FlotillaError } from "../kernel/index.js";
import { FairQueue, type Priority } from "./fair-queue.js";
import { modelKey } from "./model-name.js";
import type { Candidates, Choice, RouteRequest, Router } from "./router.js";

export interface AcquireRequest extends RouteRequest {
  keyId?: string;
  priority?: Priority;
  signal?: AbortSignal;
}

/** A reserved place on a server; release exactly once when the upstream call ends. */
export interface Slot {
  choice: Choice;
  release(): void;
}

export interface AdmissionOptions {
  queueMax: number;
  queueTimeoutMs: number;
  /** Slots of each server (below its max_concurrency) that batch requests leave to interactive ones. */
  batchReserveSlots?: number;
}

interface Waiter {
  req: AcquireRequest;
  priority: Priority;
  keyId: string;
  resolve(slot: Slot): void;
  reject(err: Error): void;
  cleanup(): void;
}

/**
 * Grants slots on servers below their max_concurrency. When every candidate
 * is full, requests wait in a bounded per-model queue instead of overloading
 * a server, and give up with 503 + Retry-After after the wait timeout.
 */
export class Admission {
  private readonly queues = new Map<string, FairQueue<Waiter>>();

  constructor(
    private readonly router: Router,
    private readonly options: AdmissionOptions,
  ) {}

  get waiting(): number {
    let n = 0;
    for (const q of this.queues.values()) n += q.size;
    return n;
  }

  queueDepths(): Record<string, number> {
    return Object.fromEntries([...this.queues].map(([k, q]) => [k, q.size]));
  }

  acquire(req: AcquireRequest): Promise<Slot> {
    const found = this.router.candidates(req);
    if (!found.ok) return Promise.reject(unavailable(found, req));
    const choice = found.choices.find((c) => this.fits(c, req.priority));
    if (choice) return Promise.resolve(this.take(choice));
    return this.enqueue(req);
  }

  /** Hands free slots to waiting requests; call when a slot frees or the fleet changes. */
  pump(): void {
    for (const [key, queue] of this.queues) {
      for (let head = queue.peek(); head; head = queue.peek()) {
        const found = this.router.candidates(head.req);
        if (!found.ok) {
          queue.shift();
          head.cleanup();
          head.reject(unavailable(found, head.req));
          continue;
        }
        const choice = found.choices.find((c) => this.fits(c, head.priority));
        if (!choice) break;
        queue.shift();
        head.cleanup();
        head.resolve(this.take(choice));
      }
      if (queue.size === 0) this.queues.delete(key);
    }
  }

  /**
   * Whether a request of this priority may take a slot on the choice's server
   * now: a batch request only one that interactive traffic leaves free (the
   * reserve, though never every slot of a server).
   */
  private fits(choice: Choice, priority: Priority | undefined): boolean {
    const { node } = choice;
    if (priority !== "batch" || node.spec.max_concurrency === undefined) return node.freeSlots > 0;
    const reserve = Math.min(this.options.batchReserveSlots ?? 0, node.spec.max_concurrency - 1);
    return node.freeSlots - reserve > 0;
  }

  private take(choice: Choice): Slot {
    choice.node.inFlight++;
    let released = false;
    return {
      choice,
      release: () => {
        if (released) return;
        released = true;
        choice.node.inFlight--;
        if (this.queues.size) this.pump();
      },
    };
  }

  private enqueue(req: AcquireRequest): Promise<Slot> {
    const key = req.pin ? `${req.pin}|${modelKey(req.model)}` : modelKey(req.model);
    let queue = this.queues.get(key);
    if ((queue?.size ?? 0) >= this.options.queueMax) {
      return Promise.reject(
        new FlotillaError("queue_full", `every server for ${req.model} is busy and its queue is full`, {
          headers: { "retry-after": String(this.retryAfterSeconds()) },
        }),
      );
    }
    if (!queue) this.queues.set(key, (queue = new FairQueue()));
    const q = queue;
    return new Promise<Slot>((resolve, reject) => {
      const waiter: Waiter = {
        req,
        priority: req.priority ?? "interactive",
        keyId: req.keyId ?? "",
        resolve,
        reject,
        cleanup: () => {
          clearTimeout(timer);
          req.signal?.removeEventListener("abort", onAbort);
        },
      };
      const leave = (err: Error) => {
        if (!q.remove(waiter)) return;
        waiter.cleanup();
        if (q.size === 0 && this.queues.get(key) === q) this.queues.delete(key);
        reject(err);
      };
      const timer = setTimeout(
        () =>
          leave(
            new FlotillaError("queue_timeout", `waited ${this.options.queueTimeoutMs} ms for a free server for ${req.model}`, {
              headers: { "retry-after": String(this.retryAfterSeconds()) },
            }),
          ),
        this.options.queueTimeoutMs,
      );
      const onAbort = () => leave(new FlotillaError("invalid_request", "client went away while queued", { status: 499 }));
      req.signal?.addEventListener("abort", onAbort, { once: true });
      q.push(waiter);
    });
  }

  private retryAfterSeconds(): number {
    return Math.max(1, Math.ceil(this.options.queueTimeoutMs / 10_000));
  }
}

function unavailable(found: Exclude<Candidates, { ok: true }>, req: RouteRequest): FlotillaError {
  switch (found.reason) {
    case "unknown_model":
      return new FlotillaError("model_not_found", `model "${req.model}" is not on any server`, { param: "model" });
    case "unavailable":
      return new FlotillaError("no_server_available", `no server that has "${req.model}" is up and accepting requests`, {
        headers: { "retry-after": "5" },
      });
    case "pin_unknown":
      return new FlotillaError("server_not_found", `X-Ollama-Pin-Server names no server: "${req.pin}"`);
    case "pin_unavailable":
      return new FlotillaError("no_server_available", `pinned server "${req.pin}" is down or cannot serve this request`, {
        headers: { "retry-after": "5" },
      });
  }
}

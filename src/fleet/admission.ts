import { FlotillaError } from "../kernel/index.js";
import { FairQueue, type Priority } from "./fair-queue.js";
import { modelKey } from "./model-name.js";
import type { Candidates, Choice, RouteRequest, Router } from "./router.js";

export interface AcquireRequest extends RouteRequest {
  /** Whom the request counts against (a key, a user or an address): waiting requests are shared out fairly between them. */
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
  /** When it started waiting: of two equal claims, the older goes first. */
  since: number;
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
  /** Slots each key holds now, across models and servers: a freed slot goes to the waiting key that holds fewest. */
  private readonly held = new Map<string, number>();

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
    if (choice) return Promise.resolve(this.take(choice, req.keyId ?? ""));
    return this.enqueue(req);
  }

  /**
   * Hands free slots to waiting requests; call when a slot frees or the fleet
   * changes. The queues are per model, but one server serves several models:
   * each free slot goes to the head, across every queue it fits, of the best
   * claim — interactive before batch, then the key holding fewest slots, then
   * the longest wait — so one key's flood of one model cannot starve another
   * key's request for another model on the same server.
   */
  pump(): void {
    for (;;) {
      let best: { queue: FairQueue<Waiter>; head: Waiter; choice: Choice } | undefined;
      for (const [key, queue] of this.queues) {
        const head = this.liveHead(queue);
        if (!head) {
          this.queues.delete(key);
          continue;
        }
        const choice = head.choice;
        if (choice && (!best || this.before(head.waiter, best.head))) best = { queue, head: head.waiter, choice };
      }
      if (!best) return;
      best.queue.shift();
      best.head.cleanup();
      best.head.resolve(this.take(best.choice, best.head.keyId));
    }
  }

  /** A queue's head and where it fits now, if anywhere; heads no server can serve any more are refused on the way. */
  private liveHead(queue: FairQueue<Waiter>): { waiter: Waiter; choice: Choice | undefined } | undefined {
    for (let head = queue.peek(); head; head = queue.peek()) {
      const found = this.router.candidates(head.req);
      if (found.ok) return { waiter: head, choice: found.choices.find((c) => this.fits(c, head.priority)) };
      queue.shift();
      head.cleanup();
      head.reject(unavailable(found, head.req));
    }
    return undefined;
  }

  /** Whether waiter `a` has the better claim to a free slot than `b`. */
  private before(a: Waiter, b: Waiter): boolean {
    if (a.priority !== b.priority) return a.priority === "interactive";
    const heldA = this.held.get(a.keyId) ?? 0;
    const heldB = this.held.get(b.keyId) ?? 0;
    return heldA !== heldB ? heldA < heldB : a.since < b.since;
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

  private take(choice: Choice, keyId: string): Slot {
    choice.node.inFlight++;
    this.held.set(keyId, (this.held.get(keyId) ?? 0) + 1);
    let released = false;
    return {
      choice,
      release: () => {
        if (released) return;
        released = true;
        choice.node.inFlight--;
        const held = (this.held.get(keyId) ?? 1) - 1;
        if (held > 0) this.held.set(keyId, held);
        else this.held.delete(keyId);
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
        since: performance.now(),
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

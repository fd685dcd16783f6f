import type { Priority } from "./fair-queue.js";

/** A request being answered now, and by which node. */
export interface InFlightRequest {
  id: string;
  model: string;
  node: string;
  priority: Priority;
  keyId?: string;
  /** Date.now() when it reached its node */
  startedAt: number;
}

/** The requests being answered now (seed 003's /api/distributed/requests): one Map entry each while on a node. */
export class InFlightRequests {
  private readonly requests = new Map<string, InFlightRequest>();
  /** How to stop each request this replica is answering, from its arrival (admission included) to its end. */
  private readonly stoppers = new Map<string, () => void>();
  /** Live views that want each request's start and end (seed 003's /ws); none most of the time. */
  private readonly watchers = new Set<(change: "started" | "finished", request: InFlightRequest) => void>();

  add(request: InFlightRequest): void {
    this.requests.set(request.id, request);
    if (this.watchers.size > 0) for (const watch of this.watchers) watch("started", request);
  }

  remove(id: string): void {
    const request = this.watchers.size > 0 ? this.requests.get(id) : undefined;
    this.requests.delete(id);
    if (request) for (const watch of this.watchers) watch("finished", request);
  }

  /** Lets `stop(id)` end request `id` until the returned function is called. */
  stoppable(id: string, stop: () => void): () => void {
    this.stoppers.set(id, stop);
    return () => {
      if (this.stoppers.get(id) === stop) this.stoppers.delete(id);
    };
  }

  /** Stops request `id` wherever it is (waiting for a slot, or on its node); nothing when it is not here. */
  stop(id: string): void {
    this.stoppers.get(id)?.();
  }

  /** Calls `fn` at each start and end until the returned function is called. */
  watch(fn: (change: "started" | "finished", request: InFlightRequest) => void): () => void {
    this.watchers.add(fn);
    return () => this.watchers.delete(fn);
  }

  list(): InFlightRequest[] {
    return [...this.requests.values()];
  }

  get size(): number {
    return this.requests.size;
  }
}

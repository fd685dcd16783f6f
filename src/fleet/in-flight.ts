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

  add(request: InFlightRequest): void {
    this.requests.set(request.id, request);
  }

  remove(id: string): void {
    this.requests.delete(id);
  }

  list(): InFlightRequest[] {
    return [...this.requests.values()];
  }

  get size(): number {
    return this.requests.size;
  }
}

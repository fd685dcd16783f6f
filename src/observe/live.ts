import { isoTime } from "../kernel/index.js";
import type { Static } from "@sinclair/typebox";
import { fleetModels, nodeView, transferView, type FleetService, type InFlightRequest, type TransferView } from "../fleet/index.js";
import type { EventRow, TransferRow } from "../store/index.js";
import type { FleetEvents } from "./events.js";
import { eventView } from "./routes.js";

type NodeState = ReturnType<typeof nodeView>;

/** Everything the live views show, at one moment. */
export interface StateSnapshot {
  time: string;
  nodes: NodeState[];
  models: Array<{ name: string; nodes: string[]; loaded_on: string[] }>;
  requests: ReturnType<typeof requestView>[];
  queued: number;
  transfers: Static<typeof TransferView>[];
  mode: string;
  fallback: boolean;
}

/** A change, numbered in the order it happened. */
export type LiveMessage =
  | { seq: number; type: "node"; node: NodeState }
  | { seq: number; type: "node_removed"; id: string }
  | { seq: number; type: "event"; event: ReturnType<typeof eventView> }
  | { seq: number; type: "transfer"; transfer: Static<typeof TransferView> }
  | { seq: number; type: "request"; status: "started" | "finished"; request: ReturnType<typeof requestView> };

export type LiveChange = LiveMessage extends infer M ? (M extends { seq: number } ? Omit<M, "seq"> : never) : never;

function requestView(r: InFlightRequest) {
  return { id: r.id, model: r.model, node: r.node, priority: r.priority, started_at: isoTime(r.startedAt) };
}

/** A transfer's progress is sent at most this often; its end always. */
const TRANSFER_EVERY_MS = 250;

/**
 * The fleet's live state for seed 000's /api/state and its stream, and seed
 * 003's /ws: a snapshot, then each change in order. Request starts and ends
 * are watched only while a subscriber wants them.
 */
export class LiveState {
  private seq = 0;
  private readonly subscribers = new Set<{ send: (m: LiveMessage) => void; requests: boolean }>();
  private stopWatchingRequests: (() => void) | undefined;
  private readonly transferSentAt = new Map<string, number>();

  constructor(
    private readonly service: FleetService,
    events: FleetEvents,
  ) {
    const { fleet } = service;
    fleet.on("change", (node) => this.publish({ type: "node", node: nodeView(node) }));
    fleet.on("removed", (id) => this.publish({ type: "node_removed", id }));
    events.on("event", (row: EventRow) => this.publish({ type: "event", event: eventView(row) }));
    service.models.transfers.on("update", (row: TransferRow) => this.transfer(row));
  }

  snapshot(): StateSnapshot {
    const { fleet, router, admission, requests, models } = this.service;
    return {
      time: new Date().toISOString(),
      nodes: fleet.all().map(nodeView),
      models: [...fleetModels(fleet.all().filter((n) => n.up)).values()].map((m) => ({ name: m.name, nodes: m.servers, loaded_on: m.loadedOn })),
      requests: requests.list().map(requestView),
      queued: admission.waiting,
      transfers: models.transfers.runningNow().map(transferView),
      mode: router.mode.mode,
      fallback: router.fallback.enabled,
    };
  }

  /** Sends each change to `send` until the returned function is called. */
  subscribe(send: (m: LiveMessage) => void, options: { requests: boolean }): () => void {
    const subscriber = { send, requests: options.requests };
    this.subscribers.add(subscriber);
    if (options.requests && !this.stopWatchingRequests) {
      this.stopWatchingRequests = this.service.requests.watch((status, request) => this.publish({ type: "request", status, request: requestView(request) }));
    }
    return () => {
      this.subscribers.delete(subscriber);
      if (this.stopWatchingRequests && ![...this.subscribers].some((s) => s.requests)) {
        this.stopWatchingRequests();
        this.stopWatchingRequests = undefined;
      }
    };
  }

  private transfer(row: TransferRow): void {
    const now = Date.now();
    if (row.status === "running" && now - (this.transferSentAt.get(row.id) ?? 0) < TRANSFER_EVERY_MS) return;
    if (row.status === "running") this.transferSentAt.set(row.id, now);
    else this.transferSentAt.delete(row.id);
    this.publish({ type: "transfer", transfer: transferView(row) });
  }

  private publish(change: LiveChange): void {
    if (this.subscribers.size === 0) return;
    const message = { ...change, seq: ++this.seq } as LiveMessage;
    for (const s of this.subscribers) if (s.requests || message.type !== "request") s.send(message);
  }
}

import { useEffect, useRef, useState } from "preact/hooks";
import { send, sseEvents } from "./api.js";

/** A node as /api/state and its stream describe it (src/fleet/node-routes.ts NodeView). */
export interface FleetNode {
  id: string;
  status: "active" | "draining" | "drained" | "offline";
  address: string;
  kind: string;
  api: string | null;
  models: string[];
  loaded: string[];
  /** Shares 0–1 (CPU: load per core, may pass 1); null where the node's machine is not known. */
  resources: { cpu: number | null; memory: number | null; disk: number | null; vram: number | null };
  in_flight: number;
  max_concurrency: number | null;
  drained: boolean;
  last_error: string | null;
}

/** A model transfer (src/fleet/model-routes.ts TransferView). */
export interface Transfer {
  id: string;
  model: string;
  node: string;
  source: string;
  status: "running" | "completed" | "failed" | "cancelled";
  stage: string | null;
  completed_bytes: number;
  total_bytes: number;
  percent: number;
  error: string | null;
  created_at: string;
  updated_at: string;
}

/** What the stream says, in the order it says it: a snapshot first (again after each reconnect), then changes. */
export interface LiveHandlers {
  snapshot?(state: { nodes: FleetNode[]; transfers: Transfer[] }): void;
  node?(node: FleetNode): void;
  nodeRemoved?(id: string): void;
  transfer?(transfer: Transfer): void;
}

export type Connection = "connecting" | "live" | "reconnecting";
const RETRY_MS = 2_000;

/**
 * Follows /api/state/stream until unmounted, reconnecting every two seconds when it drops.
 * The handlers may change between renders; the latest ones are called.
 */
export function useLiveState(handlers: LiveHandlers): { connection: Connection; problem?: string } {
  const [connection, setConnection] = useState<Connection>("connecting");
  const [problem, setProblem] = useState<string>();
  const current = useRef(handlers);
  current.current = handlers;

  useEffect(() => {
    const stop = new AbortController();
    const follow = async () => {
      const res = await send("/api/state/stream", { signal: stop.signal });
      setConnection("live");
      setProblem(undefined);
      for await (const { event, data } of sseEvents(res)) {
        const message = JSON.parse(data);
        const on = current.current;
        if (event === "snapshot") on.snapshot?.(message);
        else if (event === "node") on.node?.(message.node);
        else if (event === "node_removed") on.nodeRemoved?.(message.id);
        else if (event === "transfer") on.transfer?.(message.transfer);
      }
    };
    const loop = async () => {
      while (!stop.signal.aborted) {
        await follow().catch((err: Error) => setProblem(err.message));
        if (stop.signal.aborted) return;
        setConnection("reconnecting");
        await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
      }
    };
    void loop();
    return () => stop.abort();
  }, []);
  return { connection, problem };
}

/** The nodes, kept up to date from the stream. `onNode` also sees each node as it arrives (snapshot included). */
export function useNodes(onNode?: (node: FleetNode) => void): { nodes: Map<string, FleetNode>; connection: Connection; problem?: string } {
  const [nodes, setNodes] = useState(new Map<string, FleetNode>());
  const live = useLiveState({
    snapshot: (state) => {
      setNodes(new Map(state.nodes.map((n) => [n.id, n])));
      state.nodes.forEach((n) => onNode?.(n));
    },
    node: (node) => {
      setNodes((now) => new Map(now).set(node.id, node));
      onNode?.(node);
    },
    nodeRemoved: (id) => setNodes((now) => (now.delete(id) ? new Map(now) : now)),
  });
  return { nodes, ...live };
}

/** Label text for a connection state. */
export function connectionText(connection: Connection): string {
  return connection === "live" ? "Live" : connection === "connecting" ? "Connecting…" : "Reconnecting…";
}

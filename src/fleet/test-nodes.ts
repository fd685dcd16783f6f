import { Fleet } from "./fleet.js";
import type { ServerNode, ServerSpec } from "./node.js";

export interface NodeSetup extends Partial<ServerSpec> {
  name: string;
  models?: string[];
  loaded?: Array<string | { name: string; size_vram: number }>;
  up?: boolean;
  inFlight?: number;
  latencyMs?: number;
}

/** A fleet of nodes in a given state, for routing tests; nothing is polled or contacted. */
export function fleetOf(...setups: NodeSetup[]): { fleet: Fleet; nodes: ServerNode[] } {
  const fleet = new Fleet();
  const nodes = setups.map((s, i) => {
    const node = fleet.upsert({ url: `http://127.0.0.${i + 1}:1`, kind: "ollama", drained: false, source: "config", ...s });
    node.setModels((s.models ?? []).map((name) => ({ name })));
    node.setLoaded((s.loaded ?? []).map((l) => (typeof l === "string" ? { name: l } : l)));
    node.up = s.up ?? true;
    node.inFlight = s.inFlight ?? 0;
    node.latencyMs = s.latencyMs;
    return node;
  });
  return { fleet, nodes };
}

import type { NodeOrder, ServerNode } from "../fleet/index.js";
import type { RouteCandidate, RoutingStrategy } from "./api.js";
import type { Added } from "./loader.js";
import type { PluginLogs } from "./log.js";

/**
 * A plugin's strategy as the router calls it: on the servers it ranked, by
 * name. Servers the strategy leaves out follow in the router's order; a
 * strategy that throws or answers something else leaves the router's order.
 */
export function pluginOrder(strategy: Added<RoutingStrategy>, logs: PluginLogs): NodeOrder {
  return function orderByPlugin(nodes: ServerNode[], model: string): ServerNode[] {
    let chosen: readonly RouteCandidate[];
    try {
      chosen = strategy.value(nodes.map((node) => candidateOf(node, model)), Object.freeze({ model }));
      if (!Array.isArray(chosen)) throw new Error("it did not return an array of candidates");
    } catch (err) {
      logs.failed(strategy.plugin, "routing strategy", err);
      return nodes;
    }
    const ordered: ServerNode[] = [];
    for (const candidate of chosen) {
      const node = nodes.find((n) => n.name === (candidate as RouteCandidate | undefined)?.name);
      if (node && !ordered.includes(node)) ordered.push(node);
    }
    for (const node of nodes) if (!ordered.includes(node)) ordered.push(node);
    return ordered;
  };
}

function candidateOf(node: ServerNode, model: string): RouteCandidate {
  return Object.freeze({
    name: node.name,
    kind: node.kind,
    loaded: node.loaded.has(model),
    inFlight: node.inFlight,
    maxConcurrency: node.spec.max_concurrency,
    freeSlots: node.freeSlots,
    freeVramBytes: node.freeVram,
    latencyMs: node.latencyMs,
  });
}

import type { ServerNode } from "./node.js";

/** One model across the fleet: where it is on disk and where it is loaded. */
export interface FleetModel {
  name: string;
  size?: number;
  digest?: string;
  modified_at?: string;
  details?: Record<string, unknown>;
  servers: string[];
  loadedOn: string[];
}

/** Every model the given nodes have, by model key, in the order the nodes are given. */
export function fleetModels(nodes: readonly ServerNode[]): Map<string, FleetModel> {
  const models = new Map<string, FleetModel>();
  for (const node of nodes) {
    for (const [key, entry] of node.models) {
      let model = models.get(key);
      if (!model) {
        model = { name: entry.name, size: entry.size, digest: entry.digest, modified_at: entry.modified_at, details: entry.details, servers: [], loadedOn: [] };
        models.set(key, model);
      }
      model.servers.push(node.name);
      if (node.loaded.has(key)) model.loadedOn.push(node.name);
    }
  }
  return models;
}

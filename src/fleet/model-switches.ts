import { modelKey } from "./model-name.js";

const NONE: ReadonlySet<string> = new Set();

/**
 * What admins turned off, held in memory for the request path (which never
 * reads the database): whole models hidden from callers who are not admins,
 * and models on one node that the router skips. Replaced whole, never
 * changed in place, by whoever loads them (conversations/ model catalogs).
 */
export class ModelSwitches {
  /** Model keys hidden from everyone but admins (a catalog entry turned off). */
  hidden: ReadonlySet<string> = NONE;
  /** `onNode(node, key)` pairs the router does not send to (a provider model turned off). */
  off: ReadonlySet<string> = NONE;

  /** Whether `model` is hidden from callers who are not admins; with nothing hidden, one size check. */
  hides(model: string): boolean {
    return this.hidden.size !== 0 && this.hidden.has(modelKey(model));
  }
}

/** The key of one model on one node in `ModelSwitches.off`. */
export function onNode(node: string, key: string): string {
  return `${node}\u0000${key}`;
}

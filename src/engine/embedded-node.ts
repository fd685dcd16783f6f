import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { Config } from "../config/index.js";
import { ServerNode, type Fleet } from "../fleet/index.js";
import { LocalTransport } from "./local-transport.js";
import { parseModelSpec, type ModelFile } from "./model-spec.js";

export interface EmbeddedLog {
  info(msg: string): void;
}

export interface EmbeddedNode {
  node: ServerNode;
  /** True when it serves the generated tiny model because nothing else was configured. */
  tiny: boolean;
}

export const TINY_MODEL_NAME = "tiny";

/**
 * Runs the llama.cpp engine inside the gateway as a node: for the GGUF files
 * configured, or, with no servers and no files, for the tiny model generated
 * into the data dir, so a fresh install answers at once.
 */
export async function startEmbeddedNode(config: Readonly<Config>, fleet: Fleet, log: EmbeddedLog): Promise<EmbeddedNode | undefined> {
  const files: ModelFile[] = config.embedded.models.map(parseModelSpec);
  const tiny = files.length === 0;
  if (tiny) {
    if (config.embedded.tiny === "off" || fleet.all().length > 0) return undefined;
    files.push({ name: TINY_MODEL_NAME, path: await ensureTinyModel(config.data_dir, log) });
  }
  const name = config.embedded.name;
  if (fleet.get(name)) throw new Error(`embedded.name "${name}" is also the name of a configured server; choose another`);

  const { LlamaEngine } = await import("./llama-engine.js");
  const engine = await LlamaEngine.open({ models: files, maxConcurrency: config.embedded.max_concurrency, log: (m) => log.info(m) });
  const node = new ServerNode(
    { name, url: "embedded://llama.cpp", kind: "ollama", max_concurrency: config.embedded.max_concurrency, drained: false, source: "embedded" },
    new LocalTransport(engine),
  );
  const inventory = await engine.inventory();
  node.setModels(inventory.available);
  node.setLoaded(inventory.loaded);
  node.up = true;
  node.lastSeen = Date.now();
  fleet.attach(node);
  log.info(`embedded engine serving ${files.map((f) => f.name).join(", ")} as node ${name}`);
  return { node, tiny };
}

async function ensureTinyModel(dataDir: string, log: EmbeddedLog): Promise<string> {
  const path = join(dataDir, "models", "tiny.gguf");
  if (existsSync(path)) return path;
  const { writeTinyModel } = await import("./tiny-gguf.js");
  await mkdir(dirname(path), { recursive: true });
  await writeTinyModel(path);
  log.info(`wrote the tiny random-weight model to ${path}`);
  return path;
}

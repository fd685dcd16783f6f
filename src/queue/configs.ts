import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Value } from "@sinclair/typebox/value";
import { parseDocument, stringify } from "yaml";
import { FlotillaError } from "../kernel/index.js";
import { QueueSpec } from "./spec.js";

/** Where a queue's definition lives: the main config file, one file of the queues directory, or the gateway itself. */
export interface QueueSource {
  spec: QueueSpec;
  file: string | "config" | "built-in";
  /** other queues defined in the same file */
  shared: boolean;
}

function validated(raw: unknown, where: string, problems: string[]): QueueSpec | undefined {
  const spec = Value.Default(QueueSpec, Value.Convert(QueueSpec, raw));
  const errors = [...Value.Errors(QueueSpec, spec)];
  if (errors.length === 0) return spec as QueueSpec;
  for (const e of errors) problems.push(`${where}: ${e.path.replace(/^\//, "").replace(/\//g, ".") || "(queue)"}: ${e.message}`);
  return undefined;
}

/** Reads one queue file: a queue, a list of queues, or `queues: [...]`. Problems name the file and line. */
function readFile(path: string, problems: string[]): QueueSpec[] {
  const text = readFileSync(path, "utf8");
  const doc = parseDocument(text, { prettyErrors: true });
  if (doc.errors.length > 0) {
    for (const err of doc.errors) problems.push(`${path}:${err.linePos?.[0].line ?? "?"}:${err.linePos?.[0].col ?? "?"}: ${err.message.split("\n")[0]}`);
    return [];
  }
  const value: unknown = doc.toJS();
  const list = Array.isArray(value) ? value : value && typeof value === "object" && "queues" in value ? (value as { queues: unknown }).queues : [value];
  if (!Array.isArray(list)) {
    problems.push(`${path}: "queues" must be a list`);
    return [];
  }
  return list.flatMap((raw, i) => {
    const spec = validated(raw, list.length > 1 ? `${path}, queue ${i + 1}` : path, problems);
    return spec ? [spec] : [];
  });
}

/**
 * The queues in force: those of the main config, and those of the queues
 * directory, read again on reload. A reload with any problem changes nothing
 * and names every problem with its file and line.
 */
export class QueueConfigs {
  private current = new Map<string, QueueSource>();
  /** The gateway's own queues (background responses): always there, and not the operator's to remove. */
  private readonly own = new Map<string, QueueSpec>();

  constructor(
    private readonly fromConfig: readonly QueueSpec[],
    readonly dir: string,
  ) {}

  /** Reads the directory; throws an invalid_request naming every problem, keeping the queues as they were. */
  reload(): void {
    const problems: string[] = [];
    const next = new Map<string, QueueSource>();
    const add = (spec: QueueSpec, file: string, shared: boolean) => {
      const before = next.get(spec.name);
      if (before) problems.push(`${file}: queue "${spec.name}" is defined in ${before.file} too`);
      else next.set(spec.name, { spec, file, shared });
    };
    for (const spec of this.fromConfig) add(spec, "config", true);
    mkdirSync(this.dir, { recursive: true });
    for (const name of readdirSync(this.dir).filter((f) => /\.ya?ml$/.test(f)).sort()) {
      const path = join(this.dir, name);
      const specs = readFile(path, problems);
      for (const spec of specs) add(spec, path, specs.length > 1);
    }
    for (const spec of this.own.values()) {
      const taken = next.get(spec.name);
      if (taken) problems.push(`${taken.file}: queue "${spec.name}" is the name of a queue of the gateway's own: name this one otherwise`);
      else next.set(spec.name, { spec, file: "built-in", shared: false });
    }
    if (problems.length > 0) throw new FlotillaError("invalid_request", `queue configuration not reloaded:\n${problems.join("\n")}`);
    this.current = next;
  }

  /** Adds a queue of the gateway's own; a queue of the config or the directory with its name is then a problem of theirs. */
  addOwn(spec: QueueSpec): void {
    this.own.set(spec.name, spec);
    this.current.set(spec.name, { spec, file: "built-in", shared: false });
  }

  isOwn(name: string): boolean {
    return this.own.has(name);
  }

  get(name: string): QueueSpec | undefined {
    return this.current.get(name)?.spec;
  }

  /** Whether `url` is queue `name`'s own webhook_url: the operator's choice (its YAML), trusted where a task's is guarded. */
  isQueueWebhook(name: string, url: string): boolean {
    return this.get(name)?.webhook_url === url;
  }

  list(): QueueSource[] {
    return [...this.current.values()];
  }

  /** Writes a new queue's file into the directory and reloads. */
  create(raw: unknown): QueueSpec {
    const problems: string[] = [];
    const spec = validated(raw, "the queue", problems);
    if (!spec) throw new FlotillaError("invalid_request", problems.join("\n"));
    if (this.current.has(spec.name)) throw new FlotillaError("conflict", `a queue named "${spec.name}" exists`);
    const path = join(this.dir, `${spec.name}.yaml`);
    writeFileSync(path, stringify(spec));
    try {
      this.reload();
    } catch (err) {
      rmSync(path, { force: true });
      throw err;
    }
    return spec;
  }

  /** Deletes a queue whose file holds only it. */
  remove(name: string): void {
    const source = this.current.get(name);
    if (!source) throw new FlotillaError("not_found", `no queue named "${name}"`);
    if (source.file === "built-in") throw new FlotillaError("conflict", `queue "${name}" is the gateway's own: it cannot be removed`);
    if (source.file === "config") throw new FlotillaError("conflict", `queue "${name}" is in the main config file: remove it there`);
    if (source.shared) throw new FlotillaError("conflict", `queue "${name}" shares ${source.file} with other queues: edit the file, then reload`);
    rmSync(source.file, { force: true });
    this.reload();
  }
}

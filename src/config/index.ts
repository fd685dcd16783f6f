import { readFileSync } from "node:fs";
import { Value } from "@sinclair/typebox/value";
import { parse as parseYaml } from "yaml";
import { outboundAllowProblem } from "../kernel/index.js";
import { ConfigSchema, fetchUrlProblem, serverUrlProblem, type Config, type ServerKind } from "./schema.js";

export { ConfigSchema, fetchUrlProblem, ServerSpecSchema, ServerKind, serverUrlProblem } from "./schema.js";
export type { Config, ServerSpecInput, ConfigServer } from "./schema.js";

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "ConfigError";
  }
}

/** What the command line says, already parsed by the CLI. */
export interface ConfigFlags {
  config?: string;
  port?: string;
  host?: string;
  "data-dir"?: string;
  "metrics-port"?: string;
  "ollama-port"?: string;
  "log-level"?: string;
  "auth-proxy"?: string;
  "database-url"?: string;
  server?: string[];
  "embedded-model"?: string[];
}

type Env = Record<string, string | undefined>;

/** Env names outside the FLOTILLA_ prefix that the seeds and ARCHITECTURE.md name. */
const ENV_ALIASES: Record<string, string> = {
  DATABASE_URL: "database_url",
  REDIS_URL: "redis_url",
  METRICS_PORT: "metrics_port",
  OLLAMA_ADMIN_TOKEN: "admin_key",
  DOCKER_HOST: "schedule.docker_host",
};

/**
 * defaults < YAML file < env < flags, validated once and frozen.
 * Every problem is listed at once, each naming its key.
 */
export function loadConfig(flags: ConfigFlags = {}, env: Env = process.env): Readonly<Config> {
  const problems: string[] = [];
  const layered: Record<string, unknown> = {};
  const file = flags.config ?? env.FLOTILLA_CONFIG;
  if (file) merge(layered, readYaml(file, problems));
  merge(layered, fromEnv(env, problems));
  merge(layered, fromFlags(flags, problems));
  if (problems.length) throw new ConfigError(problems);

  const withDefaults = Value.Default(ConfigSchema, Value.Convert(ConfigSchema, layered)) as Record<string, unknown>;
  for (const error of Value.Errors(ConfigSchema, withDefaults)) {
    const key = keyName(error.path);
    problems.push(`${key}: ${error.message}${SECRET_KEY_NAME.test(key) ? "" : describeValue(error.value)}`);
  }
  if (problems.length) throw new ConfigError(dedupe(problems));
  const config = withDefaults as Config;
  nameServers(config, problems);
  config.outbound.allow.forEach((entry, i) => {
    const problem = outboundAllowProblem(entry);
    if (problem) problems.push(`outbound.allow[${i}]: ${problem}`);
  });
  if (config.media.store === "s3" && !config.media.s3.bucket) problems.push("media.s3.bucket: the s3 media store needs a bucket");
  if (config.queue_backend && config.queue_backend !== "sql" && !config.redis_url) problems.push(`queue_backend: ${config.queue_backend} needs redis_url (REDIS_URL)`);
  if (problems.length) throw new ConfigError(problems);
  return deepFreeze(config);
}

function readYaml(file: string, problems: string[]): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    problems.push(`config file ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    return {};
  }
  try {
    const doc: unknown = parseYaml(text);
    if (doc === null || doc === undefined) return {};
    if (typeof doc !== "object" || Array.isArray(doc)) {
      problems.push(`config file ${file}: the top level must be a mapping`);
      return {};
    }
    return doc as Record<string, unknown>;
  } catch (err) {
    problems.push(`config file ${file}: ${(err as Error).message.split("\n")[0]}`);
    return {};
  }
}

/**
 * `FLOTILLA_PORT` → port, `FLOTILLA_ROUTING__MAX_ATTEMPTS` → routing.max_attempts.
 * `FLOTILLA_X_FILE` reads the value of X from a file (mounted secrets).
 */
function fromEnv(env: Env, problems: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const set = (path: string, value: string) => setPath(out, path.split("."), value);
  for (const [name, key] of Object.entries(ENV_ALIASES)) {
    const value = env[name];
    if (value !== undefined && value !== "") set(key, value);
  }
  for (const [name, raw] of Object.entries(env)) {
    if (!name.startsWith("FLOTILLA_") || raw === undefined || raw === "" || name === "FLOTILLA_CONFIG") continue;
    let key = name.slice("FLOTILLA_".length).toLowerCase();
    let value = raw;
    if (key.endsWith("_file")) {
      key = key.slice(0, -"_file".length);
      try {
        value = readFileSync(raw, "utf8").trim();
      } catch (err) {
        problems.push(`${name}: cannot read ${raw}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
        continue;
      }
    }
    if (key === "servers") {
      out.servers = value.split(/\s+/).filter(Boolean).map(parseServerFlag);
      continue;
    }
    const separator = LIST_ENV[key];
    if (separator) {
      setPath(out, key.split("__"), value.split(separator).filter(Boolean));
      continue;
    }
    set(key.replace(/__/g, "."), value);
  }
  return out;
}

/** Settings that are lists, given in one env value: how its items are separated. */
const LIST_ENV: Record<string, RegExp | undefined> = {
  embedded__models: /\s+/,
  outbound__allow: /[\s,]+/,
  allowed_hosts: /[\s,]+/,
  auth__allowed_origins: /[\s,]+/,
  plugins__packages: /[\s,]+/,
};

function fromFlags(flags: ConfigFlags, problems: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const simple: Array<[keyof ConfigFlags, string]> = [
    ["port", "port"],
    ["host", "host"],
    ["data-dir", "data_dir"],
    ["metrics-port", "metrics_port"],
    ["ollama-port", "ollama_port"],
    ["log-level", "log_level"],
    ["auth-proxy", "auth.proxy"],
    ["database-url", "database_url"],
  ];
  for (const [flag, key] of simple) {
    const value = flags[flag];
    if (typeof value === "string") setPath(out, key.split("."), value);
  }
  if (flags["embedded-model"]?.length) setPath(out, ["embedded", "models"], flags["embedded-model"]);
  if (flags.server?.length) {
    try {
      out.servers = flags.server.map(parseServerFlag);
    } catch (err) {
      problems.push(`--server: ${(err as Error).message}`);
    }
  }
  return out;
}

/** `URL[,kind]`: the name is taken from the host and port; the kind is probed later when absent. */
export function parseServerFlag(value: string): { name: string; url: string; kind?: ServerKind } {
  const [url, kind] = value.split(",", 2).map((s) => s.trim());
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(`"${value}" is not a URL`);
  }
  if (kind !== undefined && kind !== "ollama" && kind !== "openai") {
    throw new Error(`"${value}": kind must be ollama or openai`);
  }
  return { name: nameFromUrl(parsed), url: url.replace(/\/+$/, ""), ...(kind ? { kind } : {}) };
}

export function nameFromUrl(url: URL): string {
  const port = url.port || (url.protocol === "https:" ? "443" : "80");
  // Servers behind one reverse proxy differ only by their base path: it is part of the name (`gw:80/ollama` → `gw:80_ollama`).
  const base = url.pathname.replace(/\/+$/, "").replace(/[^A-Za-z0-9._:@-]+/g, "_");
  return `${url.hostname.replace(/^\[|\]$/g, "")}:${port}${base}`;
}

/**
 * Servers without a name get one from their host and port; names must be unique.
 * Servers given later (flags after file) replace earlier ones of the same name.
 */
function nameServers(config: Config, problems: string[]): void {
  const seen = new Set<string>();
  config.servers.forEach((server, i) => {
    server.url = server.url.replace(/\/+$/, "");
    const problem = serverUrlProblem(server.url);
    if (problem) {
      problems.push(`servers[${i}].url: ${problem}`);
      return;
    }
    const exporter = server.node_exporter_url === undefined ? undefined : fetchUrlProblem(server.node_exporter_url);
    if (exporter) problems.push(`servers[${i}].node_exporter_url: ${exporter}`);
    server.name ??= nameFromUrl(new URL(server.url));
    if (seen.has(server.name)) problems.push(`servers[${i}].name: "${server.name}" is used by another server`);
    seen.add(server.name);
  });
}

function merge(target: Record<string, unknown>, source: Record<string, unknown>): void {
  for (const [key, value] of Object.entries(source)) {
    const existing = target[key];
    if (isPlainObject(existing) && isPlainObject(value)) merge(existing, value);
    else target[key] = value;
  }
}

function setPath(target: Record<string, unknown>, path: string[], value: unknown): void {
  let node = target;
  for (const part of path.slice(0, -1)) {
    if (!isPlainObject(node[part])) node[part] = {};
    node = node[part] as Record<string, unknown>;
  }
  node[path[path.length - 1]] = value;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** `/servers/0/url` → `servers[0].url` */
function keyName(pointer: string): string {
  const parts = pointer.split("/").filter(Boolean);
  return parts.reduce((name, part) => (/^\d+$/.test(part) ? `${name}[${part}]` : name ? `${name}.${part}` : part), "") || "(top level)";
}

/** Settings whose values are secrets: a problem with one names it, never what it was set to (it would reach the log). */
const SECRET_KEY_NAME = /(^|[._])(admin_key|client_key|secret_key|token_secret|client_secret|api_key|password|relay_tokens|headers|access_key_id|secret_access_key)\b/;

function describeValue(value: unknown): string {
  if (value === undefined || typeof value === "object") return "";
  return ` (got ${JSON.stringify(value)})`;
}

function dedupe(items: string[]): string[] {
  return [...new Set(items)];
}

function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

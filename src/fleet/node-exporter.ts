import type { SystemMetrics } from "./system-metrics.js";

/** One sample line of Prometheus text: `name{labels} value`. */
const SAMPLE = /^([a-zA-Z_:][\w:]*)(?:\{([^}]*)\})?\s+(\S+)/;

function labelsOf(text: string | undefined): Record<string, string> {
  const labels: Record<string, string> = {};
  if (!text) return labels;
  for (const match of text.matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[match[1]] = match[2];
  return labels;
}

/**
 * What a plain server's machine is doing, from its Prometheus node exporter:
 * load and cores, memory, and the root filesystem (where models are, unless
 * the operator knows better).
 */
export function parseNodeExporter(text: string): SystemMetrics {
  const cpus = new Set<string>();
  let load: number | undefined;
  let memTotal: number | undefined;
  let memAvailable: number | undefined;
  let diskSize: number | undefined;
  let diskFree: number | undefined;
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const match = SAMPLE.exec(line);
    if (!match) continue;
    const [, name, rawLabels, rawValue] = match;
    const value = Number(rawValue);
    if (name === "node_load1") load = value;
    else if (name === "node_cpu_seconds_total") cpus.add(labelsOf(rawLabels).cpu ?? "");
    else if (name === "node_memory_MemTotal_bytes") memTotal = value;
    else if (name === "node_memory_MemAvailable_bytes") memAvailable = value;
    else if ((name === "node_filesystem_size_bytes" || name === "node_filesystem_avail_bytes") && labelsOf(rawLabels).mountpoint === "/") {
      if (name === "node_filesystem_size_bytes") diskSize = value;
      else diskFree = value;
    }
  }
  const metrics: SystemMetrics = {};
  if (load !== undefined && cpus.size > 0) metrics.cpu = { cores: cpus.size, load_1m: load };
  if (memTotal !== undefined && memAvailable !== undefined) metrics.memory = { total_bytes: memTotal, free_bytes: memAvailable };
  if (diskSize !== undefined && diskFree !== undefined) metrics.disk = { total_bytes: diskSize, free_bytes: diskFree };
  return metrics;
}

export async function readNodeExporter(url: string, timeoutMs: number): Promise<SystemMetrics> {
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  if (!res.ok) throw new Error(`node exporter ${url} answered ${res.status}`);
  return parseNodeExporter(await res.text());
}

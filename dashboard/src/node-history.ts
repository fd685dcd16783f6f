import { useRef, useState } from "preact/hooks";
import { api } from "./api.js";
import type { FleetNode } from "./live.js";

/** One reading of a node: shares 0–1 (CPU: load per core), requests in flight; null where unknown. */
export interface Sample {
  t: number;
  cpu: number | null;
  memory: number | null;
  vram: number | null;
  disk: number | null;
  in_flight: number | null;
}

/** A sample of GET /api/system-metrics (src/observe/routes.ts SampleView). */
interface MetricsSample {
  time: string;
  cpu: { cores: number | null; load_1m: number | null } | null;
  memory: { total_bytes: number; free_bytes: number } | null;
  gpus: Array<{ memory_total_bytes?: unknown; memory_used_bytes?: unknown }> | null;
}

/** An hour of readings at most. */
const KEEP = 360;
const GAP_MS = 10_000;

const share = (used: number, total: number) => (total > 0 ? used / total : null);

function vramOf(gpus: MetricsSample["gpus"]): number | null {
  if (!gpus || gpus.length === 0) return null;
  const sum = (field: "memory_total_bytes" | "memory_used_bytes") => gpus.reduce((n, g) => n + (typeof g[field] === "number" ? (g[field] as number) : 0), 0);
  return share(sum("memory_used_bytes"), sum("memory_total_bytes"));
}

function fromMetrics(s: MetricsSample): Sample {
  const { cpu, memory } = s;
  return {
    t: Date.parse(s.time),
    cpu: cpu && cpu.cores && cpu.load_1m !== null ? cpu.load_1m / cpu.cores : null,
    memory: memory ? share(memory.total_bytes - memory.free_bytes, memory.total_bytes) : null,
    vram: vramOf(s.gpus),
    disk: null,
    in_flight: null,
  };
}

function fromNode(node: FleetNode): Sample {
  return { t: Date.now(), ...node.resources, in_flight: node.in_flight };
}

/** The newest reading replaces the last point while the one before it is under GAP_MS old: points come GAP_MS apart, the last one is now. */
function append(series: Sample[], sample: Sample): Sample[] {
  const before = series.at(-2);
  const kept = before && sample.t - before.t < GAP_MS ? series.slice(0, -1) : series;
  return [...kept.slice(-(KEEP - 1)), sample];
}

/**
 * Each node's recent readings: the last hour from /api/system-metrics (fetched once per node),
 * then one more each time the node's state arrives from the stream.
 */
export function useNodeHistory(): { history: ReadonlyMap<string, Sample[]>; observe: (node: FleetNode) => void } {
  const [history, setHistory] = useState<ReadonlyMap<string, Sample[]>>(new Map());
  const asked = useRef(new Set<string>());

  const observe = (node: FleetNode) => {
    setHistory((now) => new Map(now).set(node.id, append(now.get(node.id) ?? [], fromNode(node))));
    if (asked.current.has(node.id)) return;
    asked.current.add(node.id);
    api<{ samples: MetricsSample[] }>(`/api/system-metrics?serverId=${encodeURIComponent(node.id)}&hours=1`).then(
      ({ samples }) => {
        const seed = samples.map(fromMetrics).slice(-KEEP);
        const from = seed.at(-1)?.t ?? 0;
        setHistory((now) => new Map(now).set(node.id, [...seed, ...(now.get(node.id) ?? []).filter((s) => s.t > from)].slice(-KEEP)));
      },
      // A node with no history (or gone already) is drawn from what arrives.
      () => undefined,
    );
  };
  return { history, observe };
}

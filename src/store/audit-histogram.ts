import type { TimedColumn } from "./audit-stats.js";

/**
 * The fixed latency histogram the rollups keep per server and model: bucket 0
 * holds [0, 1 ms), bucket i (1…69) holds [2^((i-1)/3), 2^(i/3)) ms — three
 * buckets per doubling, each 26% wider than the one before — and bucket 70
 * everything from 2^23 ms (2 h 20 min). One integer column per bucket and
 * timed column, so an upsert adds counts atomically on both databases.
 */
export const STEPS_PER_OCTAVE = 3;
const OCTAVES = 23;
export const HISTOGRAM_BUCKETS = 1 + OCTAVES * STEPS_PER_OCTAVE + 1;
const LAST = HISTOGRAM_BUCKETS - 1;

/** Column-name prefixes of the three histograms. */
export const HISTOGRAM_PREFIX: Record<TimedColumn, string> = { latency_ms: "lat", ttft_ms: "ttft", queue_ms: "queue" };
export const TIMED_COLUMNS = Object.keys(HISTOGRAM_PREFIX) as TimedColumn[];

export function histogramColumns(column: TimedColumn): string[] {
  return Array.from({ length: HISTOGRAM_BUCKETS }, (_, i) => `${HISTOGRAM_PREFIX[column]}_${i}`);
}

export function bucketOf(ms: number): number {
  if (!(ms >= 1)) return 0;
  return Math.min(LAST, 1 + Math.floor(Math.log2(ms) * STEPS_PER_OCTAVE));
}

/** [low, high) of a bucket; the last one's high is Infinity. */
export function bucketBounds(bucket: number): [number, number] {
  if (bucket === 0) return [0, 1];
  const low = 2 ** ((bucket - 1) / STEPS_PER_OCTAVE);
  return [low, bucket === LAST ? Infinity : 2 ** (bucket / STEPS_PER_OCTAVE)];
}

/** What a percentile falling in a bucket is reported as: its middle (the last bucket: its low edge), to the microsecond. */
export function bucketValue(bucket: number): number {
  const [low, high] = bucketBounds(bucket);
  return Math.round((high === Infinity ? low : (low + high) / 2) * 1000) / 1000;
}

/** Nearest-rank p50 and p95 of a histogram: the buckets holding the ceil(n × p / 100)-th smallest value. */
export function histogramPercentiles(counts: number[]): { p50: number; p95: number } | undefined {
  const n = counts.reduce((a, b) => a + b, 0);
  if (n === 0) return undefined;
  const at = (p: number) => {
    const rank = Math.floor((n * p + 99) / 100);
    let seen = 0;
    for (let i = 0; i < counts.length; i++) {
      seen += counts[i];
      if (seen >= rank) return bucketValue(i);
    }
    return bucketValue(LAST);
  };
  return { p50: at(50), p95: at(95) };
}

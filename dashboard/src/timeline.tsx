import type { RefObject } from "preact";
import { useLayoutEffect, useRef, useState } from "preact/hooks";

/** /api/scheduled-jobs/timeline's answer (src/schedule/schemas.ts TimelineView). */
export interface TimelineView {
  from: string;
  to: string;
  hours: number;
  runs: RunView[];
  maxRunsPerJob: number;
  capped: string[];
  conflictCount: number;
}
interface RunView {
  jobId: string;
  name: string;
  start: string;
  end: string;
  model: string;
  node: string | null;
  conflicts: Array<{ jobId: string; name: string; start: string; reason: string }>;
  conflictCount: number;
}

const AXIS = 24;
const LANE = 36;
const MIN_WIDTH = 320;
const HOUR_MS = 3_600_000;
const STEPS = [1, 2, 3, 4, 6, 12, 24, 48, 168];

const clock = (t: number) => new Date(t).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
const day = (t: number) => new Date(t).toLocaleDateString([], { weekday: "short", day: "numeric" });
/** SVG text does not wrap or ellipsize: a long name is cut, and whole in the bar's title and the lists. */
const cut = (text: string, max: number) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

function reasonText(reason: string, run: RunView): string {
  if (reason === "same_model") return `both run ${run.model}`;
  if (reason === "node_full") return `node ${run.node ?? "?"} takes fewer runs at once`;
  return reason;
}

/** Each colliding pair once, in start order: "A at 03:00 and B at 03:00: node gpu-1 takes fewer runs at once". */
function conflictLines(runs: RunView[]): string[] {
  const seen = new Set<string>();
  const lines: string[] = [];
  for (const run of runs) {
    for (const other of run.conflicts) {
      const pair = [`${run.jobId}@${run.start}`, `${other.jobId}@${other.start}`].sort().join(" ");
      if (seen.has(pair)) continue;
      seen.add(pair);
      lines.push(`${run.name} at ${clock(Date.parse(run.start))} and ${other.name} at ${clock(Date.parse(other.start))}: ${reasonText(other.reason, run)}`);
    }
    if (run.conflictCount > run.conflicts.length) lines.push(`${run.name} at ${clock(Date.parse(run.start))} collides with ${run.conflictCount - run.conflicts.length} more runs`);
  }
  return lines;
}

/** The hour ticks of [from, to): on the local hour, `step` hours apart, as many as the width has room for. */
function ticks(from: number, to: number, chart: number): { step: number; at: number[] } {
  const hours = (to - from) / HOUR_MS;
  const step = STEPS.find((s) => (hours / s) * 56 <= chart) ?? STEPS[STEPS.length - 1];
  const at: number[] = [];
  const first = new Date(from);
  first.setMinutes(0, 0, 0);
  for (let t = first.getTime() + HOUR_MS; t < to; t += HOUR_MS) {
    const hour = new Date(t).getHours();
    if (step < 24 ? hour % step === 0 : hour === 0) at.push(t);
  }
  // Longer steps than a day keep every so many midnights.
  return { step, at: step <= 24 ? at : at.filter((_, i) => i % (step / 24) === 0) };
}

/** The width the drawing has: its box's, measured before the first paint and on every resize. */
function useWidth(): [RefObject<HTMLDivElement | null>, number] {
  const box = useRef<HTMLDivElement>(null);
  const [width, setWidth] = useState(720);
  useLayoutEffect(() => {
    const element = box.current;
    if (!element) return;
    const measure = () => setWidth(Math.max(MIN_WIDTH, Math.floor(element.clientWidth)));
    measure();
    const observer = new ResizeObserver(measure);
    observer.observe(element);
    return () => observer.disconnect();
  }, []);
  return [box, width];
}

/**
 * The upcoming runs as SVG lanes, one per job (by node), under a time axis. A run that collides is
 * hatched and outlined, not only coloured, and every collision is listed as text below.
 */
export function Timeline({ data }: { data: TimelineView }) {
  const [box, width] = useWidth();
  const from = Date.parse(data.from);
  const to = Date.parse(data.to);
  const lanes = [...new Map(data.runs.map((r) => [r.jobId, r])).values()].sort((a, b) => (a.node ?? "\uffff").localeCompare(b.node ?? "\uffff") || a.name.localeCompare(b.name));
  const label = Math.min(160, Math.round(width * 0.32));
  const right = width - 8;
  const x = (t: number) => label + ((Math.min(Math.max(t, from), to) - from) / (to - from)) * (right - label);
  const height = AXIS + Math.max(1, lanes.length) * LANE + 4;
  const { step, at } = ticks(from, to, right - label);
  const lines = conflictLines(data.runs);
  const inConflict = data.runs.filter((r) => r.conflictCount > 0).length;
  return (
    <div class="timeline">
      <div class="timeline-box" ref={box}>
        <svg width={width} height={height} viewBox={`0 0 ${width} ${height}`} role="img" aria-label={`The next ${data.hours} hours: ${data.runs.length} runs of ${lanes.length} jobs, ${inConflict} of them in conflict`}>
          <defs>
            <pattern id="tl-hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">
              <rect class="tl-hatch-back" width="6" height="6" />
              <line class="tl-hatch-line" x1="1.5" y1="0" x2="1.5" y2="6" />
            </pattern>
          </defs>
          {lanes.map((lane, i) => (
            <g key={lane.jobId} class="tl-lane" data-lane={lane.jobId}>
              <rect class={i % 2 ? "tl-lane-back odd" : "tl-lane-back"} x={0} y={AXIS + i * LANE} width={width} height={LANE} />
              <text class="tl-name" x={6} y={AXIS + i * LANE + 15}>
                <title>{lane.name}</title>
                {cut(lane.name, Math.floor(label / 7.5))}
              </text>
              <text class="tl-node" x={6} y={AXIS + i * LANE + 29}>
                {cut(lane.node ?? "any node", Math.floor(label / 6.5))}
              </text>
            </g>
          ))}
          {at.map((t) => (
            <g key={t} class="tl-tick">
              <line x1={x(t)} x2={x(t)} y1={AXIS - 4} y2={height} />
              <text x={x(t)} y={AXIS - 8} text-anchor="middle">
                {step >= 24 ? day(t) : clock(t)}
              </text>
            </g>
          ))}
          <line class="tl-now" x1={label} x2={label} y1={AXIS - 4} y2={height} />
          {data.runs.map((run) => {
            const lane = lanes.findIndex((l) => l.jobId === run.jobId);
            const start = x(Date.parse(run.start));
            const conflict = run.conflictCount > 0;
            const title = `${run.name}: ${clock(Date.parse(run.start))}–${clock(Date.parse(run.end))}, ${run.model}${run.node ? ` on ${run.node}` : ""}${conflict ? `; collides with ${run.conflicts.map((c) => c.name).join(", ")}` : ""}`;
            // A conflict is wide enough to show its hatching, and carries a ⚠ beside it.
            const wide = Math.max(conflict ? 8 : 3, x(Date.parse(run.end)) - start);
            return (
              <g key={`${run.jobId}@${run.start}`}>
                <rect
                  class={conflict ? "tl-run tl-conflict" : "tl-run"}
                  data-job={run.jobId}
                  data-conflict={conflict ? "true" : undefined}
                  fill={conflict ? "url(#tl-hatch)" : undefined}
                  x={start}
                  y={AXIS + lane * LANE + 5}
                  width={wide}
                  height={LANE - 10}
                  rx={3}
                >
                  <title>{title}</title>
                </rect>
                {conflict && (
                  <text class="tl-mark" x={start + wide + 2} y={AXIS + lane * LANE + 23} aria-hidden="true">
                    ⚠
                  </text>
                )}
              </g>
            );
          })}
        </svg>
      </div>
      {data.runs.length === 0 && <p class="muted">No enabled job runs in the next {data.hours} hours.</p>}
      {data.capped.length > 0 && <p class="muted">Some jobs fire so often that only their first {data.maxRunsPerJob} runs are drawn.</p>}
      <h3 class="conflicts-title">Conflicts</h3>
      {lines.length === 0 ? (
        <p class="no-conflicts">No conflicts in the next {data.hours} hours.</p>
      ) : (
        <ul class="conflicts" aria-label="Conflicts">
          {lines.map((line) => (
            <li key={line}>{line}</li>
          ))}
        </ul>
      )}
    </div>
  );
}

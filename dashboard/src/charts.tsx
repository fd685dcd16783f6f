/** Charts drawn as SVG by hand: no chart library, nothing inline the Content-Security-Policy would refuse. */
import "./charts.css";

/**
 * A small line of recent values, 0 to `max` (else the largest value), with the last value as its label.
 * The SVG has a fixed size, so a new point never moves the layout.
 */
export function Sparkline({ values, max, label, width = 120, height = 28 }: { values: number[]; max?: number; label: string; width?: number; height?: number }) {
  const top = max ?? Math.max(...values, 1e-9);
  const step = values.length > 1 ? width / (values.length - 1) : 0;
  const points = values.map((v, i) => `${(i * step).toFixed(1)},${(height - 1 - (Math.min(v, top) / top) * (height - 2)).toFixed(1)}`).join(" ");
  return (
    <svg class="sparkline" width={width} height={height} viewBox={`0 0 ${width} ${height}`} role="img" aria-label={label}>
      <title>{label}</title>
      {values.length > 1 && <polyline points={points} fill="none" stroke="currentColor" stroke-width="1.5" />}
    </svg>
  );
}

/** One line of a LineChart; null is a gap (no value for that point). */
export interface Series {
  name: string;
  values: Array<number | null>;
}

/** Up to `count` round values from 0 to at least `top`: 0, 5, 10… or 0, 0.25, 0.5… */
export function niceTicks(top: number, count = 4): number[] {
  if (!(top > 0)) return [0, 1];
  const raw = top / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = ([1, 2, 2.5, 5, 10].find((m) => m * magnitude >= raw) ?? 10) * magnitude;
  const ticks: number[] = [];
  for (let v = 0; v < top + step / 2; v += step) ticks.push(Number(v.toPrecision(12)));
  if (ticks[ticks.length - 1] < top) ticks.push(Number((ticks[ticks.length - 1] + step).toPrecision(12)));
  return ticks;
}

const PAD = { left: 48, right: 12, top: 10, bottom: 24 };

/** The text legend under a chart: a coloured mark and each series' name. */
function Legend({ names }: { names: string[] }) {
  return (
    <ul class="chart-legend">
      {names.map((name, i) => (
        <li key={name}>
          <span class={`chart-mark s${i % 6}`} aria-hidden="true" />
          {name}
        </li>
      ))}
    </ul>
  );
}

/**
 * Several series over the same points, with a y axis of a few round ticks and x labels under the
 * first, middle and last points. Its viewBox is fixed and it scales to the width it is given, so
 * new data never moves the layout. `format` writes the y ticks; `max` fixes the top (a ratio's 1).
 */
export function LineChart({ series, labels, label, format = String, max, width = 480, height = 180 }: { series: Series[]; labels: string[]; label: string; format?: (v: number) => string; max?: number; width?: number; height?: number }) {
  const count = Math.max(labels.length, ...series.map((s) => s.values.length));
  const top = max ?? Math.max(0, ...series.flatMap((s) => s.values.filter((v): v is number => v !== null)));
  const ticks = max === undefined ? niceTicks(top) : niceTicks(max).filter((t) => t <= max);
  const yTop = ticks[ticks.length - 1] || 1;
  const plotW = width - PAD.left - PAD.right;
  const plotH = height - PAD.top - PAD.bottom;
  const x = (i: number) => PAD.left + (count > 1 ? (i / (count - 1)) * plotW : plotW / 2);
  const y = (v: number) => PAD.top + plotH - (Math.min(v, yTop) / yTop) * plotH;
  const shownLabels = count > 0 ? [...new Set([0, Math.floor((count - 1) / 2), count - 1])] : [];
  return (
    <figure class="chart">
      <svg viewBox={`0 0 ${width} ${height}`} role="img" aria-label={label}>
        <title>{label}</title>
        {ticks.map((t) => (
          <g key={t} class="chart-tick">
            <line x1={PAD.left} x2={width - PAD.right} y1={y(t)} y2={y(t)} />
            <text x={PAD.left - 6} y={y(t)} text-anchor="end" dominant-baseline="middle">
              {format(t)}
            </text>
          </g>
        ))}
        {shownLabels.map((i, n) => (
          <text key={i} class="chart-x" x={x(i)} y={height - 6} text-anchor={n === 0 ? "start" : n === shownLabels.length - 1 ? "end" : "middle"}>
            {labels[i] ?? ""}
          </text>
        ))}
        {series.map((s, si) => {
          let d = "";
          let pen = "M";
          s.values.forEach((v, i) => {
            if (v === null) return void (pen = "M");
            d += `${pen}${x(i).toFixed(1)},${y(v).toFixed(1)}`;
            pen = "L";
          });
          const points = s.values.filter((v) => v !== null).length;
          // A point with no neighbour draws no line: a dot shows it.
          const lone = s.values.flatMap((v, i) => (v !== null && (s.values[i - 1] ?? null) === null && (s.values[i + 1] ?? null) === null ? [[i, v]] : []));
          return (
            <g key={s.name}>
              <path class={`chart-line s${si % 6}`} d={d || "M0,0"} data-series={s.name} data-points={points} fill="none" />
              {lone.map(([i, v]) => (
                <circle key={i} class={`chart-dot s${si % 6}`} cx={x(i).toFixed(1)} cy={y(v).toFixed(1)} r={3} />
              ))}
            </g>
          );
        })}
      </svg>
      <Legend names={series.map((s) => s.name)} />
    </figure>
  );
}

/**
 * Horizontal bars, one group per item (a bar per series in it), scaled to the largest value, with
 * the item's label above its bars and each value at the bar's end. One row per item: give it a
 * bounded list. `format` writes the values.
 */
export function BarChart({ items, series, label, format = String, width = 480 }: { items: Array<{ label: string; values: number[] }>; series: string[]; label: string; format?: (v: number) => string; width?: number }) {
  const bar = 12;
  const row = 22 + series.length * (bar + 3);
  const height = Math.max(1, items.length) * row + 4;
  const top = Math.max(1e-9, ...items.flatMap((item) => item.values));
  const room = width - 70;
  return (
    <figure class="chart">
      <svg viewBox={`0 0 ${width} ${height}`} role="img" aria-label={label}>
        <title>{label}</title>
        {items.map((item, i) => (
          <g key={item.label} class="chart-bars" data-item={item.label} transform={`translate(0 ${i * row})`}>
            <text class="chart-bar-label" x={0} y={14}>
              {item.label}
            </text>
            {item.values.map((v, si) => {
              const w = Math.max(1, (v / top) * room);
              const barY = 20 + si * (bar + 3);
              return (
                <g key={si}>
                  <rect class={`chart-bar s${si % 6}`} x={0} y={barY} width={w} height={bar} />
                  <text class="chart-value" x={w + 4} y={barY + bar / 2} dominant-baseline="middle">
                    {format(v)}
                  </text>
                </g>
              );
            })}
          </g>
        ))}
      </svg>
      <Legend names={series} />
    </figure>
  );
}

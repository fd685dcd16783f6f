/** Charts drawn as SVG by hand: no chart library, nothing inline the Content-Security-Policy would refuse. */

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

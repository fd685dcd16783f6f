import { useState } from "preact/hooks";
import { Alert } from "./controls.js";
import { useApi } from "./hooks.js";
import { AuditLog } from "./traffic-audit.js";
import { useCallers } from "./traffic-callers.js";
import { LiveFeed } from "./traffic-live.js";
import type { Analytics, Usage } from "./traffic-types.js";
import { UsageView } from "./traffic-usage.js";
import "./traffic.css";

const WINDOWS: Array<[number, string]> = [
  [1, "Last hour"],
  [24, "Last 24 hours"],
  [168, "Last 7 days"],
];
/** Usage and analytics are aggregates over the whole window: read again now and then, not every second. */
const AGGREGATES_EVERY_MS = 30_000;

/** Seed 004's traffic views for the operator: requests live, the audit log, usage and routing analytics. */
export function Traffic() {
  const [hours, setHours] = useState(24);
  const callers = useCallers();
  const usage = useApi<Usage>(`/api/usage?hours=${hours}`, AGGREGATES_EVERY_MS);
  const analytics = useApi<Analytics>(`/api/analytics?hours=${hours}`, AGGREGATES_EVERY_MS);
  const error = usage.error ?? analytics.error;
  const suggest = {
    models: usage.data?.models.map((m) => m.model) ?? [],
    servers: [...new Set(analytics.data?.nodes.map((n) => n.server))],
    keys: usage.data?.keys.flatMap((k) => (k.key_id ? [k.key_id] : [])) ?? [],
    sources: usage.data?.sources.flatMap((s) => (s.source ? [s.source] : [])) ?? [],
  };
  return (
    <section aria-labelledby="traffic-title" class="traffic">
      <div class="section-head">
        <h2 id="traffic-title">Traffic</h2>
        <label class="inline">
          Window
          <select value={hours} onChange={(e) => setHours(Number((e.currentTarget as HTMLSelectElement).value))}>
            {WINDOWS.map(([h, name]) => (
              <option key={h} value={h}>
                {name}
              </option>
            ))}
          </select>
        </label>
      </div>
      <LiveFeed callers={callers} />
      <section class="card" aria-labelledby="usage-title">
        <h3 id="usage-title">Usage and routing</h3>
        <Alert text={error} />
        <UsageView usage={usage.data?.hours === hours ? usage.data : undefined} analytics={analytics.data?.hours === hours ? analytics.data : undefined} />
      </section>
      <AuditLog hours={hours} callers={callers} suggest={suggest} />
    </section>
  );
}

import { api } from "./api.js";
import { bytes, when } from "./format.js";
import type { Transfer } from "./live.js";
import type { Act } from "./model-forms.js";

/** Finished transfers kept on screen below the running ones. */
const RECENT = 5;

const VERB: Record<string, string> = { migrate: "Moving", rebalance: "Copying" };

function TransferItem({ transfer: t, admin, act }: { transfer: Transfer; admin: boolean; act: Act }) {
  const running = t.status === "running";
  const title = `${VERB[t.source] ?? "Pulling"} ${t.model} onto ${t.node}`;
  return (
    <li class={`transfer transfer-${t.status}`} data-transfer={t.id}>
      <div class="transfer-head">
        <span class="transfer-title">{title}</span>
        <span class="badge transfer-status">{t.status}</span>
      </div>
      <div class="transfer-bar">
        <progress max={100} value={t.percent} aria-label={title} />
        <span class="transfer-percent">{t.percent}%</span>
        {admin && running && (
          <button type="button" onClick={() => act(() => api(`/api/v1/transfers/${encodeURIComponent(t.id)}`, { method: "DELETE" }))} aria-label={`Cancel ${title}`}>
            Cancel
          </button>
        )}
      </div>
      <p class="transfer-detail muted">
        {t.error ? <span class="error">{t.error}</span> : running ? `${t.stage ?? "starting"} · ${bytes(t.completed_bytes)} of ${bytes(t.total_bytes)}` : `${t.total_bytes ? `${bytes(t.total_bytes)} · ` : ""}${when(t.updated_at)}`}
      </p>
    </li>
  );
}

/** Transfers running now, then the last few that ended; each with its progress as the stream reports it. */
export function TransferList({ transfers, admin, act }: { transfers: Transfer[]; admin: boolean; act: Act }) {
  const newest = [...transfers].sort((a, b) => b.created_at.localeCompare(a.created_at));
  const shown = [...newest.filter((t) => t.status === "running"), ...newest.filter((t) => t.status !== "running").slice(0, RECENT)];
  if (shown.length === 0) return null;
  return (
    <section class="card" aria-labelledby="transfers-title">
      <h3 id="transfers-title">Transfers</h3>
      <ul class="transfers">
        {shown.map((t) => (
          <TransferItem key={t.id} transfer={t} admin={admin} act={act} />
        ))}
      </ul>
    </section>
  );
}

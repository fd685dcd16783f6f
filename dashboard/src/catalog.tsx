import { useState } from "preact/hooks";
import { api } from "./api.js";
import { Alert, Pager, Switch, useList } from "./controls.js";
import { McpTools, Plugins, Relays } from "./tools.js";
import "./catalog.css";

/** A catalog entry as /v1/admin/models/catalogs lists it (src/conversations/model-catalog-schemas.ts CatalogEntry), the fields shown. */
interface CatalogEntry {
  id: string;
  public_id: string;
  model_display_name?: string;
  active?: boolean;
  available: boolean;
  status: "init" | "filled" | "updated";
  family?: string;
  context_length?: number;
  extras?: { fleet?: { servers?: string[] } };
}

/** One model on one server (ProviderModel in the same file), the fields shown. */
interface ProviderModel {
  id: string;
  provider_id: string;
  provider_vendor: string;
  model_public_id: string;
  provider_original_model_id: string;
  active: boolean;
  available: boolean;
}

interface Page<T> {
  data: T[];
  total: number;
  limit: number;
}

/** Jan's list limit is at most 100. */
const LIMIT = 100;

/**
 * Catalog entries: one per model name across the fleet. One turned off is hidden from callers
 * who are not admins (/v1/models, the catalog) and refused to them. A single switch goes through
 * bulk-toggle with that one id: a PATCH would mark the entry `updated` (edited by an admin)
 * when only its switch moved.
 */
function Models() {
  const list = useList<Page<CatalogEntry>>((offset) => `/v1/admin/models/catalogs?limit=${LIMIT}&offset=${offset}`);
  const [error, setError] = useState<string>();
  const toggle = async (body: { enable: boolean; catalog_ids?: string[] }) => {
    setError(undefined);
    try {
      await api("/v1/admin/models/catalogs/bulk-toggle", { method: "POST", body });
    } catch (err) {
      setError((err as Error).message);
    }
    await list.load();
  };
  const all = (enable: boolean) => () => {
    if (!enable && !confirm("Turn every model off? Users will see none of them.")) return;
    void toggle({ enable });
  };
  return (
    <section aria-labelledby="models-title" class="catalog-section">
      <div class="section-head">
        <h2 id="models-title">Models</h2>
        <span class="muted">Turned off: hidden from users who are not admins, and refused to them.</span>
      </div>
      <div class="bulk">
        <button type="button" onClick={all(true)}>
          Turn all on
        </button>
        <button type="button" onClick={all(false)}>
          Turn all off
        </button>
      </div>
      <Alert text={list.error ?? error} />
      <div class="table-wrap">
        <table class="models">
          <thead>
            <tr>
              <th scope="col">Offered</th>
              <th scope="col">Model</th>
              <th scope="col">Servers</th>
              <th scope="col">Family</th>
              <th scope="col">Context</th>
            </tr>
          </thead>
          <tbody>
            {list.data?.data.map((entry) => (
              <tr key={entry.id} data-model={entry.id}>
                <td>
                  <Switch label={`${entry.public_id} offered`} on={entry.active !== false} change={(enable) => toggle({ enable, catalog_ids: [entry.id] })} />
                </td>
                <td>
                  <span class="mono name">{entry.public_id}</span>
                  {entry.model_display_name && entry.model_display_name !== entry.public_id && <span class="muted"> {entry.model_display_name}</span>}
                  {!entry.available && <span class="badge status-offline">not on the fleet</span>}
                </td>
                <td class="servers">{entry.extras?.fleet?.servers?.join(", ") || "–"}</td>
                <td>{entry.family ?? "–"}</td>
                <td>{entry.context_length?.toLocaleString() ?? "–"}</td>
              </tr>
            ))}
            {list.data?.data.length === 0 && (
              <tr>
                <td colSpan={5} class="muted">
                  No models on the fleet yet.
                </td>
              </tr>
            )}
          </tbody>
        </table>
      </div>
      {list.data && <Pager total={list.data.total} limit={LIMIT} offset={list.offset} go={list.setOffset} what="models" />}
    </section>
  );
}

/** Models on each server: one turned off there is not routed there (the other servers still serve it). */
function ServerModels() {
  const list = useList<Page<ProviderModel>>((offset) => `/v1/admin/models/provider-models?limit=${LIMIT}&offset=${offset}`);
  const [error, setError] = useState<string>();
  const run = async (call: () => Promise<unknown>) => {
    setError(undefined);
    await call().catch((err: Error) => setError(err.message));
    await list.load();
  };
  const patch = (model: ProviderModel, active: boolean) => run(() => api(`/v1/admin/models/provider-models/${encodeURIComponent(model.id)}`, { method: "PATCH", body: { active } }));
  const bulk = (server: string, enable: boolean) => () => void run(() => api("/v1/admin/models/provider-models/bulk-toggle", { method: "POST", body: { enable, provider_id: server } }));
  const servers = new Map<string, ProviderModel[]>();
  for (const model of list.data?.data ?? []) servers.set(model.provider_id, [...(servers.get(model.provider_id) ?? []), model]);
  return (
    <section aria-labelledby="server-models-title" class="catalog-section">
      <div class="section-head">
        <h2 id="server-models-title">Models on each server</h2>
        <span class="muted">Turned off on a server: requests for it go to the other servers.</span>
      </div>
      <Alert text={list.error ?? error} />
      {list.data?.data.length === 0 && <p class="muted">No server has a model yet.</p>}
      <ul class="servers-list">
        {[...servers].map(([server, models]) => (
          <li key={server} class="card" data-server={server}>
            <div class="node-head">
              <h3>{server}</h3>
              <span class="muted">{models[0].provider_vendor}</span>
            </div>
            <div class="bulk">
              <button type="button" onClick={bulk(server, true)} aria-label={`Turn on every model on ${server}`}>
                All on
              </button>
              <button type="button" onClick={bulk(server, false)} aria-label={`Turn off every model on ${server}`}>
                All off
              </button>
            </div>
            <ul class="switch-list">
              {models.map((model) => (
                <li key={model.id} data-provider-model={model.id}>
                  <span class="mono name">{model.provider_original_model_id}</span>
                  {!model.available && <span class="badge status-offline">offline</span>}
                  <Switch label={`${model.provider_original_model_id} on ${server}`} on={model.active} change={(on) => patch(model, on)} />
                </li>
              ))}
            </ul>
          </li>
        ))}
      </ul>
      {list.data && <Pager total={list.data.total} limit={LIMIT} offset={list.offset} go={list.setOffset} what="server models" />}
    </section>
  );
}

/** The catalog page (admins): which models are offered and where, which MCP tools are on, the relays and the plugins. */
export function Catalog() {
  return (
    <>
      <Models />
      <ServerModels />
      <McpTools />
      <Relays />
      <Plugins />
    </>
  );
}

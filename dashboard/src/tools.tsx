import { useState } from "preact/hooks";
import { api } from "./api.js";
import { Alert, Pager, Switch, useList } from "./controls.js";
import { bytes, when } from "./format.js";
import { useApi } from "./hooks.js";

/** An MCP tool as /v1/admin/mcp-tools lists it (src/mcp/admin-routes.ts ToolRecord), the fields shown. */
interface Tool {
  public_id: string;
  name: string;
  description: string;
  category: string;
  is_active: boolean;
  disallowed_keywords?: string[];
  max_result_bytes: number | null;
  source: { kind: string; id: string };
  available: boolean;
}

/** A connected relay (src/mcp/routes.ts RelaySummary). */
interface Relay {
  id: string;
  name: string;
  remote: string;
  connected_at: string;
  in_flight: number;
  calls: number;
}

/** A plugin (src/plugins/routes.ts PluginView). */
interface Plugin {
  name: string;
  version: string | null;
  source: { kind: "file" | "folder" | "package"; location: string };
  status: "loaded" | "failed";
  error: string | null;
  adds: { strategies: string[]; channels: string[]; hooks: string[] };
}

const LIMIT = 100;

/** A tool's filters (PUT …/filters): patterns refused in its arguments and results, one a line, and the most bytes a result may take. */
function Filters({ tool, save }: { tool: Tool; save: (body: { disallowed_keywords: string[]; max_result_bytes: number | null }) => Promise<void> }) {
  const submit = (event: SubmitEvent) => {
    event.preventDefault();
    const form = event.currentTarget as HTMLFormElement;
    const patterns = (form.elements.namedItem("patterns") as HTMLTextAreaElement).value;
    const max = (form.elements.namedItem("max") as HTMLInputElement).value.trim();
    void save({ disallowed_keywords: patterns.split("\n").map((p) => p.trim()).filter(Boolean), max_result_bytes: max ? Number(max) : null });
  };
  const count = tool.disallowed_keywords?.length ?? 0;
  return (
    <details class="filters">
      <summary>
        Filters: {count ? `${count} pattern${count === 1 ? "" : "s"}` : "none"}
        {tool.max_result_bytes !== null && `, results up to ${bytes(tool.max_result_bytes)}`}
      </summary>
      <form class="stack" onSubmit={submit} aria-label={`Filters of ${tool.name}`}>
        <label>
          Refused patterns (regular expressions, one a line)
          <textarea name="patterns" rows={3} defaultValue={(tool.disallowed_keywords ?? []).join("\n")} />
        </label>
        <label>
          Most bytes a result may take
          <input name="max" type="number" min={1} inputMode="numeric" defaultValue={tool.max_result_bytes === null ? "" : String(tool.max_result_bytes)} placeholder="no limit" />
        </label>
        <button type="submit">Save the filters</button>
      </form>
    </details>
  );
}

/** MCP tools of every relay and configured server: one turned off is hidden from every MCP endpoint and its calls refused. */
export function McpTools() {
  const list = useList<{ data: Tool[]; total: number }>((offset) => `/v1/admin/mcp-tools?limit=${LIMIT}&offset=${offset}`);
  const [error, setError] = useState<string>();
  const change = async (tool: Tool, call: () => Promise<unknown>) => {
    setError(undefined);
    await call().catch((err: Error) => setError(`${tool.name}: ${err.message}`));
    await list.load();
  };
  const path = (tool: Tool) => `/v1/admin/mcp-tools/${encodeURIComponent(tool.public_id)}`;
  return (
    <section aria-labelledby="tools-title" class="catalog-section">
      <div class="section-head">
        <h2 id="tools-title">MCP tools</h2>
        <span class="muted">Turned off: hidden from every MCP endpoint, and calls to it refused.</span>
      </div>
      <Alert text={list.error ?? error} />
      {list.data?.data.length === 0 && <p class="muted">No MCP tools: connect a relay (flotilla mcp-relay) or add servers under mcp.servers.</p>}
      <ul class="tools">
        {list.data?.data.map((tool) => (
          <li key={tool.public_id} class="card tool" data-tool={tool.name}>
            <div class="node-head">
              <h3 class="mono">{tool.name}</h3>
              <Switch label={`${tool.name} enabled`} on={tool.is_active} change={(enabled) => change(tool, () => api(path(tool), { method: "PATCH", body: { enabled } }))} />
            </div>
            {tool.description && <p class="description">{tool.description}</p>}
            <p class="muted">
              From {tool.source.kind} {tool.source.id}
              {tool.category && ` · ${tool.category}`}
              {!tool.available && " · not offered now"}
            </p>
            <Filters tool={tool} save={(body) => change(tool, () => api(`${path(tool)}/filters`, { method: "PUT", body }))} />
          </li>
        ))}
      </ul>
      {list.data && <Pager total={list.data.total} limit={LIMIT} offset={list.offset} go={list.setOffset} what="MCP tools" />}
    </section>
  );
}

/** The MCP relays connected to this gateway (read only). */
export function Relays() {
  const { data, error } = useApi<{ relays: Relay[] }>("/api/mcp/relays", 10_000);
  return (
    <section aria-labelledby="relays-title" class="catalog-section">
      <h2 id="relays-title">MCP relays</h2>
      <Alert text={error} />
      <div class="table-wrap">
        <table class="relays">
          <thead>
            <tr>
              <th scope="col">Relay</th>
              <th scope="col">Name</th>
              <th scope="col">From</th>
              <th scope="col">Connected</th>
              <th scope="col">Calls</th>
              <th scope="col">In flight</th>
            </tr>
          </thead>
          <tbody>
            {data?.relays.map((relay) => (
              <tr key={relay.id} data-relay={relay.id}>
                <td class="mono">{relay.id}</td>
                <td>{relay.name}</td>
                <td class="mono">{relay.remote}</td>
                <td>{when(relay.connected_at)}</td>
                <td>{relay.calls}</td>
                <td>{relay.in_flight}</td>
              </tr>
            ))}
            {data?.relays.length === 0 && (
              <tr>
                <td colSpan={6} class="muted">
                  No relay is connected.
                </td>
              </tr>
            )}
          </tbody>
        </table>
      </div>
    </section>
  );
}

/** The plugins loaded at start, what each adds, and why any failed (read only: plugins change with a restart). */
export function Plugins() {
  const { data, error } = useApi<{ plugins: Plugin[] }>("/api/plugins");
  return (
    <section aria-labelledby="plugins-title" class="catalog-section">
      <h2 id="plugins-title">Plugins</h2>
      <Alert text={error} />
      <div class="table-wrap">
        <table class="plugins">
          <thead>
            <tr>
              <th scope="col">Plugin</th>
              <th scope="col">From</th>
              <th scope="col">Adds</th>
              <th scope="col">Status</th>
            </tr>
          </thead>
          <tbody>
            {data?.plugins.map((plugin) => (
              <tr key={plugin.source.location} data-plugin={plugin.name}>
                <td>
                  {plugin.name}
                  {plugin.version && <span class="muted"> {plugin.version}</span>}
                </td>
                <td>
                  {plugin.source.kind} <span class="mono">{plugin.source.location}</span>
                </td>
                <td>{adds(plugin) || "–"}</td>
                <td>
                  <span class={`badge ${plugin.status === "loaded" ? "status-active" : "status-offline"}`}>{plugin.status}</span>
                  {plugin.error && <span class="error plugin-error"> {plugin.error}</span>}
                </td>
              </tr>
            ))}
            {data?.plugins.length === 0 && (
              <tr>
                <td colSpan={4} class="muted">
                  No plugins (see docs/plugins.md).
                </td>
              </tr>
            )}
          </tbody>
        </table>
      </div>
    </section>
  );
}

function adds(plugin: Plugin): string {
  const { strategies, channels, hooks } = plugin.adds;
  return [strategies.length ? `strategies: ${strategies.join(", ")}` : "", channels.length ? `channels: ${channels.join(", ")}` : "", hooks.length ? `hooks: ${hooks.join(", ")}` : ""].filter(Boolean).join("; ");
}

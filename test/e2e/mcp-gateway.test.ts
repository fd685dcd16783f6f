import assert from "node:assert/strict";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { McpError } from "@modelcontextprotocol/sdk/types.js";
import { httpMcpServer } from "../fixtures/http-mcp-server.js";
import { ADMIN_KEY, startFlotilla, waitFor, type Flotilla } from "./harness.js";
import { startAgent, type WorkerProcess } from "./worker-harness.js";

const CLIENT_KEY = "relay-key-0123456789";
const TOKEN = "laptop-token";
const FIXTURE = join(process.cwd(), "dist/test/fixtures/mcp-server.js");

describe("Flotilla as one MCP server: /mcp aggregates relays and configured servers", () => {
  let gw: Flotilla;
  let web: Awaited<ReturnType<typeof httpMcpServer>>;
  let laptop: WorkerProcess;
  const events = join(mkdtempSync(join(tmpdir(), "flotilla-mcp-")), "events.log");
  const noted = (line: string) => {
    try {
      return readFileSync(events, "utf8").split("\n").filter((l) => l === line).length;
    } catch {
      return 0;
    }
  };

  before(async () => {
    web = await httpMcpServer();
    gw = await startFlotilla({
      env: { FLOTILLA_CLIENT_KEY: CLIENT_KEY },
      yaml: [
        "mcp:",
        "  servers:",
        `    - { name: web, url: "${web.url}" }`,
        "  relay_tokens:",
        `    laptop: ${TOKEN}`,
        "  tool_sets:",
        '    local: ["laptop__*"]',
        '    finder: ["*__search", "laptop__echo"]',
      ].join("\n"),
    });
    laptop = startAgent("mcp-relay", ["--server", gw.url, "--client-key", CLIENT_KEY, "--id", "laptop", "--auth-token", TOKEN, "--", process.execPath, FIXTURE], { MCP_FIXTURE_LOG: events });
    await laptop.waitForLog(/callers reach it/);
  });
  after(async () => {
    await laptop?.stop();
    await gw?.stop();
    await web?.close();
  });

  async function connect(path: string, key = ADMIN_KEY): Promise<Client> {
    const client = new Client({ name: "test", version: "1" });
    await client.connect(new StreamableHTTPClientTransport(new URL(gw.url + path), { requestInit: { headers: { authorization: `Bearer ${key}` } } }));
    return client;
  }

  test("the official MCP client sees every tool, namespaced, and calls each where it lives", async () => {
    const client = await connect("/mcp");
    try {
      assert.equal(client.getServerVersion()?.name, "flotilla");
      // As the MCP conformance suite expects of a server: logging levels are taken, and completions answer (with nothing to complete).
      assert.deepEqual(await client.setLoggingLevel("warning"), {});
      assert.deepEqual((await client.complete({ ref: { type: "ref/prompt", name: "none" }, argument: { name: "a", value: "p" } })).completion, { values: [], total: 0, hasMore: false });
      const { tools } = await client.listTools();
      assert.deepEqual(tools.map((t) => t.name).sort(), ["laptop__big", "laptop__echo", "laptop__slow", "web__fail", "web__search"]);
      assert.equal(tools.find((t) => t.name === "web__search")?.description, "Finds things");
      assert.ok(tools.find((t) => t.name === "laptop__echo")?.inputSchema.properties?.text, "a tool keeps its input schema");

      assert.deepEqual((await client.callTool({ name: "laptop__echo", arguments: { text: "via /mcp" } })).content, [{ type: "text", text: "echo: via /mcp" }]);
      assert.deepEqual((await client.callTool({ name: "web__search", arguments: { q: "gpus" } })).content, [{ type: "text", text: "found gpus" }]);
      const failed = await client.callTool({ name: "web__fail", arguments: {} });
      assert.equal(failed.isError, true);
      assert.match(JSON.stringify(failed.content), /the search index is down/);
      await assert.rejects(client.callTool({ name: "nowhere__x", arguments: {} }), (err: McpError) => err.code === -32602 && /no MCP tool named "nowhere__x"/.test(err.message));
    } finally {
      await client.close();
    }
    // Jan Server's path for the same endpoint.
    const jan = await connect("/v1/mcp");
    try {
      assert.equal((await jan.listTools()).tools.length, 5);
    } finally {
      await jan.close();
    }
  });

  test("a tool set (/mcp/{set}) offers and calls only the tools its patterns match", async () => {
    const local = await connect("/mcp/local");
    try {
      assert.deepEqual((await local.listTools()).tools.map((t) => t.name).sort(), ["laptop__big", "laptop__echo", "laptop__slow"]);
      await assert.rejects(local.callTool({ name: "web__search", arguments: { q: "x" } }), (err: McpError) => err.code === -32602 && /not offered here/.test(err.message));
    } finally {
      await local.close();
    }
    const finder = await connect("/mcp/finder");
    try {
      assert.deepEqual((await finder.listTools()).tools.map((t) => t.name).sort(), ["laptop__echo", "web__search"]);
    } finally {
      await finder.close();
    }
    const unknown = await fetch(`${gw.url}/mcp/nope`, {
      method: "POST",
      headers: { authorization: `Bearer ${ADMIN_KEY}`, "content-type": "application/json", accept: "application/json, text/event-stream" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }),
    });
    assert.equal(unknown.status, 404);
    const body = (await unknown.json()) as { jsonrpc: string; error: { data: { code: string } } };
    assert.equal(body.jsonrpc, "2.0");
    assert.equal(body.error.data.code, "not_found");
  });

  test("a caller that goes away from /mcp stops the tool call where it runs", async () => {
    const abort = new AbortController();
    const pending = fetch(`${gw.url}/mcp`, {
      method: "POST",
      headers: { authorization: `Bearer ${ADMIN_KEY}`, "content-type": "application/json", accept: "application/json, text/event-stream" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "laptop__slow", arguments: {} } }),
      signal: abort.signal,
    }).catch((err: Error) => err);
    await waitFor("the slow call to start", () => noted("slow started") === 1);
    abort.abort();
    assert.ok((await pending) instanceof Error);
    await waitFor("the MCP server to hear of the cancel", () => noted("slow cancelled") === 1);
  });

  test("seed 002's tools API: tools/list and tools/call on paths of their own", async () => {
    const post = (path: string, body?: object) =>
      fetch(gw.url + path, { method: "POST", headers: { authorization: `Bearer ${ADMIN_KEY}`, "content-type": "application/json" }, body: body && JSON.stringify(body) });
    const listed = (await (await post("/v1/mcp/tools/list")).json()) as { jsonrpc: string; id: number; result: { tools: Array<{ name: string }> } };
    assert.equal(listed.jsonrpc, "2.0");
    assert.equal(listed.result.tools.length, 5);
    const called = await post("/v1/mcp/tools/call", { jsonrpc: "2.0", id: "c1", method: "tools/call", params: { name: "web__search", arguments: { q: "nodes" } } });
    assert.deepEqual(await called.json(), { jsonrpc: "2.0", id: "c1", result: { content: [{ type: "text", text: "found nodes" }] } });
    const bad = await post("/v1/mcp/tools/call", { jsonrpc: "2.0", id: 2, params: {} });
    assert.equal(bad.status, 400);
    const error = (await bad.json()) as { jsonrpc: string; error: { code: number; message: string } };
    assert.equal(error.error.code, -32600);
    assert.match(error.error.message, /params\.name/);
  });

  test("an admin lists tools as Jan Server does, switches one off, and sets filters that say which rule refused a call", async () => {
    const admin = (path: string, init: RequestInit = {}) => gw.admin(path, init);
    const all = (await (await admin("/v1/admin/mcp-tools")).json()) as { data: Array<{ public_id: string; name: string; is_active: boolean; available: boolean; source: { kind: string } }>; total: number };
    assert.equal(all.total, 5);
    const search = all.data.find((t) => t.name === "web__search");
    assert.deepEqual([search?.public_id, search?.is_active, search?.available, search?.source.kind], ["mcp_web__search", true, true, "server"]);
    const paged = (await (await admin("/v1/admin/mcp/tools?limit=2&offset=1&search=LAPTOP")).json()) as { data: Array<{ name: string }>; total: number };
    assert.deepEqual([paged.total, paged.data.map((t) => t.name)], [3, ["laptop__echo", "laptop__slow"]]);

    const off = await admin("/v1/admin/mcp/tools/mcp_web__search", { method: "PATCH", body: JSON.stringify({ enabled: false, category: "search" }) });
    assert.equal(off.status, 200);
    const record = ((await off.json()) as { data: { is_active: boolean; category: string; updated_at: string } }).data;
    assert.deepEqual([record.is_active, record.category], [false, "search"]);
    assert.match(record.updated_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    const client = await connect("/mcp");
    try {
      assert.ok(!(await client.listTools()).tools.some((t) => t.name === "web__search"), "a tool switched off is hidden");
      const refused = await client.callTool({ name: "web__search", arguments: { q: "x" } });
      assert.equal(refused.isError, true);
      assert.match(JSON.stringify(refused.content), /tool is disabled/);
      await admin("/v1/admin/mcp-tools/mcp_web__search", { method: "PATCH", body: JSON.stringify({ is_active: true }) });
      assert.ok((await client.listTools()).tools.some((t) => t.name === "web__search"), "and back when switched on");

      const filters = await admin("/v1/admin/mcp/tools/laptop__echo/filters", { method: "PUT", body: JSON.stringify({ disallowed_keywords: ["(?i)secret", "echo: leak"] }) });
      assert.equal(filters.status, 200);
      const args = await client.callTool({ name: "laptop__echo", arguments: { text: "the SECRET plan" } });
      assert.equal(args.isError, true);
      assert.match(JSON.stringify(args.content), /its arguments match disallowed_keywords\[0\]/);
      const result = await client.callTool({ name: "laptop__echo", arguments: { text: "leak" } });
      assert.equal(result.isError, true);
      assert.match(JSON.stringify(result.content), /its result matches disallowed_keywords\[1\]/);
      assert.equal((await client.callTool({ name: "laptop__echo", arguments: { text: "fine" } })).isError, undefined);

      await admin("/v1/admin/mcp-tools/laptop__big", { method: "PATCH", body: JSON.stringify({ max_result_bytes: 200 }) });
      const big = await client.callTool({ name: "laptop__big", arguments: { chars: 500 } });
      assert.equal(big.isError, true);
      assert.match(JSON.stringify(big.content), /over max_result_bytes \(200\)/);
    } finally {
      await client.close();
    }
    const badPattern = await admin("/v1/admin/mcp-tools/laptop__echo", { method: "PATCH", body: JSON.stringify({ disallowed_keywords: ["(unclosed"] }) });
    assert.equal(badPattern.status, 400);
    assert.match(((await badPattern.json()) as { error: { message: string } }).error.message, /disallowed_keywords\[0\] is not a valid pattern/);
    assert.equal((await admin("/v1/admin/mcp-tools/nope__x")).status, 404);
    assert.equal((await fetch(`${gw.url}/v1/admin/mcp-tools`)).status, 401);
  });

  test("an admin limits an API key to a tool set or to tools of its own, on every MCP endpoint", async () => {
    const { user } = (await (await gw.admin("/api/users", { method: "POST", body: JSON.stringify({ username: "tool-user", password: "a long enough password" }) })).json()) as { user: { id: string } };
    const key = (await (await gw.admin(`/api/users/${user.id}/api-key`, { method: "POST", body: JSON.stringify({ name: "agent" }) })).json()) as { id: string; key: string };
    const limit = (rule: object) => gw.admin(`/api/mcp/keys/${key.id}`, { method: "PUT", body: JSON.stringify(rule) });
    const names = async (path: string) => {
      const client = await connect(path, key.key);
      try {
        return (await client.listTools()).tools.map((t) => t.name).sort();
      } finally {
        await client.close();
      }
    };
    assert.equal((await names("/mcp")).length, 5, "a key with no rule sees every tool");

    assert.equal((await limit({ tools: ["web__*"] })).status, 200);
    assert.deepEqual(await names("/mcp"), ["web__fail", "web__search"]);
    const client = await connect("/mcp", key.key);
    try {
      await assert.rejects(client.callTool({ name: "laptop__echo", arguments: { text: "x" } }), (err: McpError) => err.code === -32602 && /not offered here/.test(err.message));
    } finally {
      await client.close();
    }
    const listed = (await (await fetch(`${gw.url}/v1/mcp/tools/list`, { method: "POST", headers: { authorization: `Bearer ${key.key}` } })).json()) as { result: { tools: unknown[] } };
    assert.equal(listed.result.tools.length, 2, "the tools API follows the key's rule too");

    assert.equal((await limit({ tool_set: "local" })).status, 200);
    assert.deepEqual(await names("/mcp"), ["laptop__big", "laptop__echo", "laptop__slow"]);
    assert.deepEqual(await names("/mcp/finder"), ["laptop__echo"], "a tool set endpoint offers what both it and the key allow");
    assert.deepEqual(await (await gw.admin(`/api/mcp/keys/${key.id}`)).json(), { key_id: key.id, tool_set: "local", tools: null });

    assert.equal((await limit({ tool_set: "nope" })).status, 400);
    assert.equal((await gw.admin("/api/mcp/keys/key_nobody", { method: "PUT", body: JSON.stringify({ tools: ["*"] }) })).status, 404);
    assert.equal((await gw.admin(`/api/mcp/keys/${key.id}`, { method: "DELETE" })).status, 204);
    assert.equal((await names("/mcp")).length, 5);
  });

  test("/mcp needs an API key, and a relay that goes away leaves the list", async () => {
    const anonymous = await fetch(`${gw.url}/mcp`, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json, text/event-stream" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }),
    });
    assert.equal(anonymous.status, 401);
    assert.equal(((await anonymous.json()) as { jsonrpc: string }).jsonrpc, "2.0");

    const client = await connect("/mcp");
    try {
      await laptop.stop();
      await waitFor("the relay to leave", async () => !(await client.listTools()).tools.some((t) => t.name.startsWith("laptop__")));
      assert.deepEqual((await client.listTools()).tools.map((t) => t.name).sort(), ["web__fail", "web__search"]);
    } finally {
      await client.close();
    }
  });
});

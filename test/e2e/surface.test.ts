import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import Database from "better-sqlite3";
import OpenAI from "openai";
import { join } from "node:path";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { startSim, type SimServer } from "../sim/index.js";
import { ADMIN_KEY, freePort, startFlotilla, type Flotilla } from "./harness.js";

describe("errors, auth and system endpoints", () => {
  let upstream: SimServer;
  let gw: Flotilla;

  before(async () => {
    upstream = await startSim({ kind: "ollama", models: ["m:latest"] });
    gw = await startFlotilla({ servers: [`${upstream.url},ollama`] });
  });
  after(async () => {
    await gw?.stop();
    await upstream?.close();
  });

  const post = (path: string, body: string, headers: Record<string, string> = {}) =>
    fetch(gw.url + path, { method: "POST", body, headers: { authorization: `Bearer ${ADMIN_KEY}`, "content-type": "application/json", ...headers } });

  test("an unknown route is a 404 route_not_found in each surface's shape", async () => {
    const openai = await fetch(`${gw.url}/v1/nothing`);
    assert.equal(openai.status, 404);
    const o = (await openai.json()) as { error: { code: string; type: string; request_id: string } };
    assert.equal(o.error.code, "route_not_found");
    assert.equal(o.error.request_id, openai.headers.get("x-request-id"));
    const ollama = await fetch(`${gw.url}/api/nothing`);
    const l = (await ollama.json()) as { error: string; code: string; timestamp: string };
    assert.equal(ollama.status, 404);
    assert.equal(l.code, "route_not_found");
    assert.equal(typeof l.error, "string");
    assert.ok(!Number.isNaN(Date.parse(l.timestamp)));
  });

  test("Jan's Kong prefixes reach the same routes, errors in the shape of the path they stand for", async () => {
    const client = new OpenAI({ baseURL: `${gw.url}/llm/v1`, apiKey: ADMIN_KEY });
    const answer = await client.chat.completions.create({ model: "m:latest", messages: [{ role: "user", content: "hi" }] });
    assert.equal(answer.object, "chat.completion");
    const health = await fetch(`${gw.url}/llm/healthz`);
    assert.equal(health.status, 200);
    const missing = await fetch(`${gw.url}/media/v1/nothing`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
    assert.equal(missing.status, 404);
    assert.equal(((await missing.json()) as { error: { code: string } }).error.code, "route_not_found");
  });

  test("malformed JSON, wrong types and a missing model are 400s that name the field", async () => {
    const bad = await post("/v1/chat/completions", "{not json");
    assert.equal(bad.status, 400);
    assert.equal(((await bad.json()) as { error: { code: string } }).error.code, "invalid_json");

    const wrongType = await post("/v1/chat/completions", JSON.stringify({ model: "m", messages: "hello" }));
    assert.equal(wrongType.status, 400);
    assert.equal(((await wrongType.json()) as { error: { param: string } }).error.param, "messages");

    const noModel = await post("/api/chat", JSON.stringify({ messages: [] }));
    assert.equal(noModel.status, 400);
    const body = (await noModel.json()) as { error: string; code: string };
    assert.equal(body.code, "missing_model");
    assert.match(body.error, /model/);

    const unknownModel = await post("/v1/chat/completions", JSON.stringify({ model: "nope", messages: [{ role: "user", content: "x" }] }));
    assert.equal(unknownModel.status, 404);
    assert.equal(((await unknownModel.json()) as { error: { code: string } }).error.code, "model_not_found");
  });

  test("no key is 401, a wrong key is 401, in the surface's shape; X-Ollama-Api-Key works too", async () => {
    const none = await fetch(`${gw.url}/v1/models`);
    assert.equal(none.status, 401);
    assert.equal(((await none.json()) as { error: { type: string } }).error.type, "authentication_error");
    const wrong = await fetch(`${gw.url}/api/tags`, { headers: { authorization: "Bearer nope" } });
    assert.equal(wrong.status, 401);
    const alt = await fetch(`${gw.url}/api/tags`, { headers: { "x-ollama-api-key": ADMIN_KEY } });
    assert.equal(alt.status, 200);
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: "wrong", maxRetries: 0 });
    await assert.rejects(client.models.list(), (err: InstanceType<typeof OpenAI.APIError>) => err.status === 401);
  });

  test("every response carries X-Request-Id, and a sane incoming one is kept", async () => {
    for (const path of ["/healthz", "/api/tags", "/v1/missing"]) {
      const res = await fetch(gw.url + path, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
      assert.match(res.headers.get("x-request-id") ?? "", /^req_[0-9a-f]{32}$/);
    }
    const res = await fetch(`${gw.url}/healthz`, { headers: { "x-request-id": "trace-42" } });
    assert.equal(res.headers.get("x-request-id"), "trace-42");
    const streamed = await post("/api/chat", JSON.stringify({ model: "m", messages: [{ role: "user", content: "x" }] }), { "x-request-id": "trace-43" });
    assert.equal(streamed.headers.get("x-request-id"), "trace-43");
    assert.equal(upstream.requests.at(-1)?.headers["x-request-id"], "trace-43", "the id goes upstream too");
    await streamed.arrayBuffer();
  });

  test("health, version, metrics, the OpenAPI document and Swagger UI answer without a key", async () => {
    for (const path of ["/healthz", "/health"]) {
      const health = (await (await fetch(gw.url + path)).json()) as { status: string; services: { servers_up: number } };
      assert.equal(health.status, "healthy");
      assert.equal(health.services.servers_up, 1);
    }
    const version = (await (await fetch(`${gw.url}/api/version`)).json()) as { version: string };
    assert.match(version.version, /^\d+\.\d+\.\d+/);
    const metrics = await (await fetch(`${gw.url}/metrics`)).text();
    assert.match(metrics, /flotilla_server_up\{server="[^"]+"\} 1/);
    assert.match(metrics, /flotilla_requests_total/);
    const doc = (await (await fetch(`${gw.url}/api/client/openapi.json`)).json()) as { openapi: string; paths: Record<string, unknown> };
    assert.match(doc.openapi, /^3\./);
    for (const path of ["/v1/chat/completions", "/api/chat", "/api/tags", "/admin/servers", "/healthz"]) assert.ok(doc.paths[path], `${path} documented`);
    // `hours` and `limit` have defaults: a client generated from the document must be free to leave them out.
    const events = (doc.paths["/api/events"] as { get: { parameters: Array<{ name: string; required: boolean }> } }).get.parameters;
    assert.deepEqual(events.map((p) => [p.name, p.required]), [["hours", false], ["server", false], ["limit", false]]);
    const ui = await fetch(`${gw.url}/api/client/`);
    assert.equal(ui.status, 200);
    assert.match(await ui.text(), /swagger/i);
    const redirect = await fetch(`${gw.url}/swagger/index.html`, { redirect: "manual" });
    assert.equal(redirect.status, 301);
    assert.equal(redirect.headers.get("location"), "/api/client/");
  });

  test("admin endpoints refuse a missing key", async () => {
    assert.equal((await fetch(`${gw.url}/admin/servers`)).status, 401);
    assert.equal((await fetch(`${gw.url}/api/pull`, { method: "POST", body: "{}" })).status, 401);
  });
});

describe("open proxy mode, run-time servers and shutdown", () => {
  test("auth.proxy open: inference needs no key, admin and model writes still do", async () => {
    const upstream = await startSim({ kind: "ollama", models: ["m:latest"] });
    const gw = await startFlotilla({ servers: [upstream.url], args: ["--auth-proxy", "open"] });
    try {
      const chat = await fetch(`${gw.url}/api/chat`, { method: "POST", body: JSON.stringify({ model: "m", stream: false, messages: [{ role: "user", content: "x" }] }) });
      assert.equal(chat.status, 200);
      assert.equal((await fetch(`${gw.url}/api/tags`)).status, 200);
      assert.equal((await fetch(`${gw.url}/api/delete`, { method: "DELETE", body: JSON.stringify({ model: "m" }) })).status, 401);
      assert.equal((await fetch(`${gw.url}/admin/servers`)).status, 401);
    } finally {
      await gw.stop();
      await upstream.close();
    }
  });

  test("servers added at run time are kept in the database; shutdown flushes the audit log", async () => {
    const upstream = await startSim({ kind: "openai", models: ["late"] });
    const dataDir = mkdtempSync(join(tmpdir(), "flotilla-persist-"));
    let gw = await startFlotilla({ dataDir });
    try {
      const added = await gw.admin("/admin/servers", { method: "POST", body: JSON.stringify({ name: "late-one", url: upstream.url, api_key: "upstream-secret" }) });
      assert.equal(added.status, 201);
      const view = (await added.json()) as { kind: string; up: boolean; has_api_key: boolean; api_key?: string };
      assert.deepEqual([view.kind, view.up, view.has_api_key, view.api_key], ["openai", true, true, undefined]);
      const dup = await gw.admin("/admin/servers", { method: "POST", body: JSON.stringify({ name: "late-one", url: upstream.url }) });
      assert.equal(dup.status, 409);
      const bad = await gw.admin("/admin/servers", { method: "POST", body: JSON.stringify({ name: "x", url: "not a url" }) });
      assert.equal(bad.status, 400);

      const res = await gw.admin("/v1/chat/completions", {
        method: "POST",
        headers: { "x-ollama-source": "nightly-report" },
        body: JSON.stringify({ model: "late", messages: [{ role: "user", content: "hello world" }] }),
      });
      assert.equal(res.status, 200);
      assert.equal(upstream.requests.at(-1)?.headers.authorization, "Bearer upstream-secret");
      assert.equal(await gw.stop(), 0);

      const db = new Database(join(dataDir, "flotilla.db"), { readonly: true });
      const row = db.prepare("select source, model, server, status, tokens_in, tokens_out from requests where path = ?").get("/v1/chat/completions") as Record<string, unknown>;
      db.close();
      assert.equal(row.source, "nightly-report");
      assert.equal(row.model, "late");
      assert.equal(row.server, "late-one");
      assert.equal(row.status, 200);
      assert.ok(Number(row.tokens_out) > 0);

      gw = await startFlotilla({ dataDir });
      const { servers } = (await (await gw.admin("/admin/servers")).json()) as { servers: Array<{ name: string }> };
      assert.deepEqual(servers.map((s) => s.name), ["late-one"]);
      assert.equal((await gw.admin("/admin/servers/late-one", { method: "DELETE" })).status, 204);
      assert.equal((await gw.admin("/admin/servers/late-one")).status, 404);
    } finally {
      await gw.stop();
      await upstream.close();
    }
  });

  test("the first start without FLOTILLA_ADMIN_KEY prints a key once, and that key works", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "flotilla-firstrun-"));
    const first = await startFlotilla({ dataDir, adminKey: null });
    let key: string | undefined;
    try {
      key = /Admin API key[^\n]*\n\n\s+(flt_\S+)/.exec(first.output())?.[1];
      assert.ok(key, first.output());
      assert.equal((await fetch(`${first.url}/admin/servers`, { headers: { authorization: `Bearer ${key}` } })).status, 200);
    } finally {
      await first.stop();
    }
    const second = await startFlotilla({ dataDir, adminKey: null });
    try {
      assert.doesNotMatch(second.output(), /Admin API key/);
      assert.equal((await fetch(`${second.url}/admin/servers`, { headers: { authorization: `Bearer ${key}` } })).status, 200);
      const db = new Database(join(dataDir, "flotilla.db"), { readonly: true });
      const stored = db.prepare("select hash from api_keys").all() as Array<{ hash: string }>;
      db.close();
      assert.ok(stored.every((r) => r.hash !== key && /^[0-9a-f]{64}$/.test(r.hash)), "only the hash is stored");
    } finally {
      await second.stop();
    }
  });

  test("--ollama-port serves the same API on a second port; --metrics-port serves /metrics alone", async () => {
    const [ollamaPort, metricsPort] = [await freePort(), await freePort()];
    const gw = await startFlotilla({ args: ["--ollama-port", String(ollamaPort), "--metrics-port", String(metricsPort)] });
    try {
      const tags = await fetch(`http://127.0.0.1:${ollamaPort}/api/tags`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
      assert.deepEqual(await tags.json(), { models: [] });
      const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
      assert.match(metrics, /flotilla_queued_requests 0/);
    } finally {
      await gw.stop();
    }
  });

  test("a bad config value stops the start with a message naming the key", async () => {
    await assert.rejects(startFlotilla({ yaml: "routing:\n  max_attempts: zero\n" }), /routing\.max_attempts/);
  });
});

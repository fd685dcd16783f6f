import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { startSim, type SimServer } from "../sim/index.js";
import { ADMIN_KEY, startFlotilla, type Flotilla } from "./harness.js";

interface OpenAIError {
  error: { message: string; type: string; code: string; param: string | null; request_id: string };
}
interface OllamaError {
  error: string;
  code: string;
  request_id: string;
  timestamp: string;
}

describe("bad input answers a 4xx in the surface's shape, and stores nothing", () => {
  let upstream: SimServer;
  let gw: Flotilla;
  let dataDir: string;

  before(async () => {
    upstream = await startSim({ kind: "ollama", models: ["m:latest"] });
    dataDir = mkdtempSync(join(tmpdir(), "flotilla-bad-input-"));
    gw = await startFlotilla({ servers: [`${upstream.url},ollama`], dataDir });
  });
  after(async () => {
    await gw?.stop();
    await upstream?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const send = (method: string, path: string, body?: string, headers: Record<string, string> = {}) =>
    fetch(gw.url + path, { method, body, headers: { authorization: `Bearer ${ADMIN_KEY}`, "content-type": "application/json", ...headers } });

  async function ollamaError(res: Response, status: number): Promise<OllamaError> {
    assert.equal(res.status, status, `${res.url}: ${res.status}`);
    const body = (await res.json()) as OllamaError;
    assert.equal(typeof body.error, "string");
    assert.equal(body.request_id, res.headers.get("x-request-id"));
    return body;
  }

  async function openAIError(res: Response, status: number): Promise<OpenAIError["error"]> {
    assert.equal(res.status, status, `${res.url}: ${res.status}`);
    const { error } = (await res.json()) as OpenAIError;
    assert.equal(typeof error.message, "string");
    assert.equal(error.request_id, res.headers.get("x-request-id"));
    return error;
  }

  test("a server is added from a valid body, with extra fields, or sent as text/plain", async () => {
    const valid = await send("POST", "/admin/servers", JSON.stringify({ name: "x", url: "http://127.0.0.1:9", kind: "openai" }));
    assert.equal(valid.status, 201);
    const extra = await send("POST", "/admin/servers", JSON.stringify({ name: "x2", url: "http://127.0.0.1:9", colour: "red" }));
    assert.equal(extra.status, 201);
    const text = await send("POST", "/admin/servers", JSON.stringify({ name: "x3", url: "http://127.0.0.1:9" }), { "content-type": "text/plain" });
    assert.equal(text.status, 201);
    for (const name of ["x", "x2", "x3"]) assert.equal((await send("DELETE", `/admin/servers/${name}`)).status, 204);
  });

  test("a server address that is no usable origin is a 400 naming url, and nothing is stored", async () => {
    for (const url of ["http://[::1", "http://", "http://a b", "http://127.0.0.1:99999", "https://127.0.0.1:9/v1", "http://u:p@127.0.0.1:9"]) {
      const body = await ollamaError(await send("POST", "/admin/servers", JSON.stringify({ name: "bad", url })), 400);
      assert.equal(body.code, "invalid_request");
      assert.match(body.error, /^url: /, url);
    }
    const exporter = await ollamaError(await send("POST", "/admin/servers", JSON.stringify({ name: "bad", url: "http://127.0.0.1:9", node_exporter_url: "http://" })), 400);
    assert.match(exporter.error, /^node_exporter_url: /);
    const huge = await ollamaError(await send("POST", "/admin/servers", JSON.stringify({ name: "bad", url: "http://127.0.0.1:9", max_concurrency: 1e308 })), 400);
    assert.match(huge.error, /max_concurrency/);
    const { servers } = (await (await send("GET", "/admin/servers")).json()) as { servers: Array<{ name: string }> };
    assert.ok(!servers.some((s) => s.name === "bad"));
  });

  test("a percent-encoded % in a model name is that name; a path that does not decode, or is too long, is a 400 or 414", async () => {
    const get = await openAIError(await send("GET", "/v1/models/%25"), 404);
    assert.equal(get.code, "model_not_found");
    assert.match(get.message, /"%"/);
    const del = await openAIError(await send("DELETE", "/api/v1/models/%25"), 404);
    assert.equal(del.code, "model_not_found");
    const undecodable = await openAIError(await send("GET", "/v1/models/%E0%A4%A"), 400);
    assert.equal(undecodable.code, "invalid_request");
    assert.equal((await ollamaError(await send("GET", "/admin/servers/%E0%A4%A"), 400)).code, "invalid_request");
    assert.match((await ollamaError(await send("GET", `/admin/servers/${"m".repeat(600)}`), 414)).error, /over 512 characters/);
  });

  test("a query number out of range is a 400 naming it", async () => {
    for (const path of ["/api/events", "/api/server-events"]) {
      for (const limit of ["1e400", "-1e400", "Infinity"]) {
        const body = await ollamaError(await send("GET", `${path}?limit=${limit}`), 400);
        assert.equal(body.code, "invalid_request");
        assert.match(body.error, /"limit"/);
      }
    }
  });

  test("a session cookie that does not decode is no session: 401, not 500", async () => {
    const res = await fetch(`${gw.url}/api/auth/me`, { headers: { cookie: "flotilla_session=%E0%A4%A" } });
    assert.equal((await ollamaError(res, 401)).code, "unauthorized");
  });

  test("API key and task numbers beyond any sensible range are 400s naming the field", async () => {
    const setup = await fetch(`${gw.url}/api/auth/setup`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ username: "root", password: "correct horse battery" }) });
    const cookie = (setup.headers.get("set-cookie") ?? "").split(";")[0];
    for (const field of ["expires_in", "daily_token_budget"]) {
      const res = await fetch(`${gw.url}/auth/api-keys`, { method: "POST", headers: { cookie, "content-type": "application/json" }, body: JSON.stringify({ name: "k", [field]: 1e300 }) });
      assert.match((await ollamaError(res, 400)).error, new RegExp(field));
    }
    const delayed = await send("POST", "/queue/add", JSON.stringify({ queue: "default", data: {}, delay: 1e20 }));
    assert.match((await ollamaError(delayed, 400)).error, /delay/);
  });

  test("a NUL character in a path parameter, a query value or a body string is a 400 (PostgreSQL could not store it)", async () => {
    const path = await openAIError(await send("GET", "/api/v1/transfers/a%00b"), 400);
    assert.equal(path.param, "id");
    assert.match(path.message, /path parameter "id" holds a NUL/);
    const query = await ollamaError(await send("GET", "/api/system-metrics?serverId=a%00b"), 400);
    assert.match(query.error, /query parameter "serverId" holds a NUL/);
    const body = await openAIError(await send("POST", "/v1/chat/completions", JSON.stringify({ model: "m\u0000", messages: [{ role: "user", content: "x" }] })), 400);
    assert.match(body.message, /NUL character/);
    // The text \u0000 (an escaped backslash) is no NUL: it passes.
    const text = await send("POST", "/v1/chat/completions", JSON.stringify({ model: "m", messages: [{ role: "user", content: "what is \\u0000?" }] }));
    assert.equal(text.status, 200);
  });

  test("every number a request may carry has a finite maximum in the OpenAPI document, so none is stored as Infinity", async () => {
    type Schema = { $ref?: string; type?: string | string[]; maximum?: number; enum?: unknown[]; const?: unknown } & Record<string, unknown>;
    const doc = (await (await fetch(`${gw.url}/api/client/openapi.json`)).json()) as {
      paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: Schema }> }; parameters?: Array<{ in: string; name: string; schema: Schema }> }>>;
      components?: { schemas?: Record<string, Schema> };
    };
    const unbounded: string[] = [];
    const walk = (schema: Schema | undefined, where: string, seen: Set<string>): void => {
      if (!schema || typeof schema !== "object") return;
      if (schema.$ref) {
        const name = schema.$ref.split("/").pop() as string;
        if (!seen.has(name)) walk(doc.components?.schemas?.[name], where, new Set([...seen, name]));
        return;
      }
      const types = [schema.type ?? []].flat();
      if ((types.includes("number") || types.includes("integer")) && schema.maximum === undefined && schema.enum === undefined && schema.const === undefined) unbounded.push(where);
      for (const [name, child] of Object.entries((schema.properties ?? {}) as Record<string, Schema>)) walk(child, `${where}.${name}`, seen);
      for (const key of ["items", "additionalProperties"]) if (schema[key] && typeof schema[key] === "object") walk(schema[key] as Schema, `${where}[]`, seen);
      for (const key of ["anyOf", "oneOf", "allOf"]) for (const child of (schema[key] ?? []) as Schema[]) walk(child, where, seen);
    };
    for (const [path, methods] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(methods)) {
        for (const content of Object.values(op.requestBody?.content ?? {})) walk(content.schema, `${method.toUpperCase()} ${path} body`, new Set());
        for (const p of op.parameters ?? []) walk(p.schema, `${method.toUpperCase()} ${path} ${p.in} ${p.name}`, new Set());
      }
    }
    assert.deepEqual(unbounded, []);
  });

  test("an error quotes at most a few hundred characters of what was sent (a megabyte model name is not sent back)", async () => {
    const name = "m".repeat(1_000_000);
    const openai = await openAIError(await send("POST", "/v1/chat/completions", JSON.stringify({ model: name, messages: [{ role: "user", content: "x" }] })), 404);
    const ollama = await ollamaError(await send("POST", "/api/show", JSON.stringify({ model: name })), 404);
    for (const message of [openai.message, ollama.error]) {
      assert.ok(message.length <= 1100, `a message of ${message.length} characters`);
      assert.match(message, /^model "m{100,}… \(\d+ characters cut\) …m+" is not/);
    }
  });

  test("a chat message with a role OpenAI does not know is a 400 naming messages[i].role", async () => {
    const res = await send("POST", "/v1/chat/completions", JSON.stringify({ model: "m", messages: [{ role: "user", content: "a" }, { role: "wizard", content: "b" }] }));
    const error = await openAIError(res, 400);
    assert.equal(error.param, "messages[1].role");
    assert.match(error.message, /system, developer, user, assistant, tool, function/);
  });

  test("after all of it, the gateway restarts on the same data and serves", async () => {
    await gw.stop();
    gw = await startFlotilla({ servers: [`${upstream.url},ollama`], dataDir });
    assert.equal((await fetch(`${gw.url}/healthz`)).status, 200);
    const chat = await send("POST", "/v1/chat/completions", JSON.stringify({ model: "m", messages: [{ role: "user", content: "hi" }] }));
    assert.equal(chat.status, 200);
  });
});

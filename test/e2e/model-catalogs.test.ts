import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import OpenAI from "openai";
import type { SimServer } from "../sim/index.js";
import { ADMIN_KEY, simulators, startFlotilla, userKey, waitFor, type Flotilla } from "./harness.js";

interface Catalog {
  id: string;
  status: string;
  active?: boolean;
  available: boolean;
  context_length?: number;
  family?: string;
  supports_tools: boolean;
  supports_reasoning: boolean;
  supports_images: boolean;
  model_display_name?: string;
  description?: string;
  supported_parameters: { names: string[]; default: Record<string, string | null> };
  architecture: { modality: string; input_modalities: string[] };
  extras: { fleet: { servers: string[] } };
}
interface ProviderModel {
  id: string;
  provider_id: string;
  model_public_id: string;
  active: boolean;
  available: boolean;
  token_limits?: { context_length: number };
}
interface List<T> {
  data: T[];
  total: number;
  limit: number;
}

const sims = simulators();
let gw: Flotilla;
let a: SimServer;
let b: SimServer;
let key: string;
let user: OpenAI;
let admin: OpenAI;

const nameOf = (s: SimServer) => new URL(s.url).host;
const asUser = (path: string, init: RequestInit = {}) => fetch(gw.url + path, { ...init, headers: { authorization: `Bearer ${key}`, "content-type": "application/json", ...init.headers } });
const json = async <T>(res: Response | Promise<Response>): Promise<T> => {
  const r = await res;
  assert.equal(r.status, 200, await r.clone().text());
  return (await r.json()) as T;
};
const toggleCatalogs = (body: unknown) => json<Record<string, number>>(gw.admin("/v1/admin/models/catalogs/bulk-toggle", { method: "POST", body: JSON.stringify(body) }));
const messages = [{ role: "user" as const, content: "hi" }];

describe("model catalogs over the fleet (Jan's model catalog API)", () => {
  before(async () => {
    a = await sims.start({ kind: "ollama", models: ["m:latest", "extra:7b"], loaded: ["m:latest"] });
    b = await sims.start({ kind: "ollama", models: ["m:latest"], loaded: ["m:latest"] });
    gw = await startFlotilla({ servers: [`${a.url},ollama`, `${b.url},ollama`] });
    key = await userKey(gw, "catalog-user");
    user = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: key, maxRetries: 0 });
    admin = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: ADMIN_KEY, maxRetries: 0 });
  });
  after(async () => {
    await gw.stop();
    await sims.closeAll();
  });

  test("the catalog lists each model of the fleet once, filled from the servers' /api/show, with Jan's pagination", async () => {
    const list = await waitFor("the catalog filled from /api/show", async () => {
      const page = await json<List<Catalog>>(asUser("/v1/models/catalogs"));
      return page.data.every((c) => c.status === "filled") && page;
    });
    assert.deepEqual([list.data.map((c) => c.id), list.total, list.limit], [["extra:7b", "m:latest"], 2, 20]);
    const m = list.data[1];
    assert.deepEqual([m.context_length, m.family, m.supports_tools, m.supports_reasoning, m.supports_images, m.active, m.available], [4096, "llama", true, true, false, true, true]);
    assert.deepEqual(m.extras.fleet.servers.sort(), [nameOf(a), nameOf(b)].sort());
    assert.equal(m.architecture.modality, "text->text");
    assert.ok(m.supported_parameters.names.includes("tools") && m.supported_parameters.names.includes("temperature"));
    const one = await json<Catalog>(asUser("/v1/models/catalogs/m"));
    assert.equal(one.id, "m:latest", "found by any spelling Ollama takes");
    const second = await json<List<Catalog>>(asUser("/v1/models/catalogs?limit=1&offset=1"));
    assert.deepEqual([second.data.map((c) => c.id), second.total, second.limit], [["m:latest"], 2, 1]);
    const desc = await json<List<Catalog>>(asUser("/v1/models/catalogs?order=desc&supports_tools=true"));
    assert.deepEqual(desc.data.map((c) => c.id), ["m:latest", "extra:7b"]);
    assert.equal((await asUser("/v1/models/catalogs?limit=0")).status, 400);
    assert.equal((await asUser("/v1/models/catalogs/nope")).status, 404);
  });

  test("callers who are not admins get 403 from every admin route", async () => {
    for (const [method, path] of [
      ["GET", "/v1/admin/models/catalogs"],
      ["GET", "/v1/admin/models/catalogs/m"],
      ["PATCH", "/v1/admin/models/catalogs/m"],
      ["POST", "/v1/admin/models/catalogs/bulk-toggle"],
      ["GET", "/v1/admin/models/provider-models"],
      ["POST", "/v1/admin/models/provider-models/bulk-toggle"],
    ]) {
      const res = await asUser(path, { method, body: method === "GET" ? undefined : JSON.stringify({ enable: false }) });
      assert.equal(res.status, 403, `${method} ${path}`);
    }
  });

  test("a catalog entry turned off is hidden from callers who are not admins and refused to them as OpenAI refuses a model; on again, it works", async () => {
    assert.deepEqual(await toggleCatalogs({ enable: false, catalog_ids: ["m"] }), { updated_count: 1, total_checked: 1 });
    assert.deepEqual((await user.models.list()).data.map((m) => m.id), ["extra:7b"]);
    const refused = await user.chat.completions.create({ model: "m", messages }).then(
      () => assert.fail("a chat with a model turned off was answered"),
      (err: unknown) => err,
    );
    assert.ok(refused instanceof OpenAI.APIError);
    assert.deepEqual([refused.status, refused.code, refused.message], [404, "model_not_found", "404 The model `m` does not exist or you do not have access to it."]);
    const ollama = await asUser("/api/chat", { method: "POST", body: JSON.stringify({ model: "m", messages, stream: false }) });
    assert.deepEqual([ollama.status, ((await ollama.json()) as { error: string }).error], [404, "The model `m` does not exist or you do not have access to it."]);
    assert.equal((await asUser("/v1/models/catalogs/m")).status, 404);
    assert.deepEqual((await json<List<Catalog>>(asUser("/v1/models/catalogs"))).data.map((c) => c.id), ["extra:7b"]);

    assert.deepEqual((await admin.models.list()).data.map((m) => m.id).sort(), ["extra:7b", "m:latest"]);
    assert.ok((await admin.chat.completions.create({ model: "m", messages })).choices[0].message.content);
    const entry = await json<Catalog>(gw.admin("/v1/admin/models/catalogs/m:latest"));
    assert.equal(entry.active, false);

    assert.deepEqual(await toggleCatalogs({ enable: true }), { updated_count: 1, skipped_count: 1, total_checked: 2 });
    assert.ok((await user.chat.completions.create({ model: "m", messages })).choices[0].message.content);
    assert.equal((await gw.admin("/v1/admin/models/catalogs/bulk-toggle", { method: "POST", body: JSON.stringify({ enable: false, catalog_ids: ["gone"] }) })).status, 404);
  });

  test("an admin's changes to an entry win over what the fleet reports, and mark it updated", async () => {
    const patched = await json<Catalog>(gw.admin("/v1/admin/models/catalogs/extra:7b", { method: "PATCH", body: JSON.stringify({ model_display_name: "Extra", description: "a spare", context_length: 8192, supports_images: true }) }));
    assert.deepEqual([patched.status, patched.model_display_name, patched.description, patched.context_length, patched.supports_images], ["updated", "Extra", "a spare", 8192, true]);
    const seen = await json<Catalog>(asUser("/v1/models/catalogs/extra:7b"));
    assert.deepEqual([seen.model_display_name, seen.context_length, seen.supports_tools], ["Extra", 8192, true]);
  });

  test("a model turned off on one of two servers is sent only to the other", async () => {
    const listed = await json<List<ProviderModel>>(gw.admin("/v1/admin/models/provider-models?model_key=m"));
    assert.deepEqual(listed.data.map((p) => [p.provider_id, p.model_public_id, p.active, p.available]).sort(), [[nameOf(a), "m:latest", true, true], [nameOf(b), "m:latest", true, true]].sort());
    const onA = listed.data.find((p) => p.provider_id === nameOf(a)) as ProviderModel;
    assert.equal(onA.token_limits?.context_length, 4096);
    const off = await json<ProviderModel>(gw.admin(`/v1/admin/models/provider-models/${onA.id}`, { method: "PATCH", body: JSON.stringify({ active: false }) }));
    assert.equal(off.active, false);
    // Each request a conversation of its own, so no server is preferred for an earlier one.
    let n = 0;
    const servedBy = async (headers: Record<string, string> = {}) => {
      const res = await asUser("/v1/chat/completions", { method: "POST", headers, body: JSON.stringify({ model: "m", messages: [{ role: "user", content: `hi ${n++}` }] }) });
      await res.arrayBuffer();
      return `${res.status} ${res.headers.get("x-flotilla-server") ?? ""}`;
    };
    const served = [];
    for (let i = 0; i < 6; i++) served.push(await servedBy());
    assert.deepEqual(served, Array(6).fill(`200 ${nameOf(b)}`));
    assert.equal(await servedBy({ "x-ollama-pin-server": nameOf(a) }), "503 ", "pinned there, it is refused");

    const back = await json<Record<string, number>>(gw.admin("/v1/admin/models/provider-models/bulk-toggle", { method: "POST", body: JSON.stringify({ enable: true, provider_id: nameOf(a) }) }));
    assert.deepEqual(back, { updated_count: 1, skipped_count: 1, total_checked: 2 });
    assert.equal(await servedBy({ "x-ollama-pin-server": nameOf(a) }), `200 ${nameOf(a)}`);
    const unknown = await gw.admin("/v1/admin/models/provider-models/bulk-toggle", { method: "POST", body: JSON.stringify({ enable: false, provider_id: "nowhere" }) });
    assert.equal(unknown.status, 404);
  });
});

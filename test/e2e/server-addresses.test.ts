import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, test } from "node:test";
import { openStore, type ServerInput } from "../../src/store/index.js";
import { simulators, startFlotilla, type Flotilla } from "./harness.js";

const sims = simulators();
let gw: Flotilla | undefined;
const dirs: string[] = [];

afterEach(async () => {
  await gw?.stop();
  gw = undefined;
  await sims.closeAll();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function dataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "flotilla-addresses-"));
  dirs.push(dir);
  return dir;
}

async function storedServers(dir: string): Promise<string[]> {
  const store = await openStore({ dataDir: dir });
  try {
    return (await store.servers.list()).map((s) => s.name);
  } finally {
    await store.close();
  }
}

interface ServerView {
  name: string;
  url: string;
  kind: string | null;
  up: boolean;
  last_error: string | null;
}

const chat = (model: string) => JSON.stringify({ model, stream: false, messages: [{ role: "user", content: "hi" }] });

describe("server addresses", () => {
  test("a server behind a reverse proxy's path serves chat through the gateway, Ollama and OpenAI, given or probed", async () => {
    const ollama = await sims.start({ kind: "ollama", models: ["olla:latest"], basePath: "/ollama" });
    const vllm = await sims.start({ kind: "openai", models: ["oai"], basePath: "/gpu/vllm" });
    gw = await startFlotilla();
    const added: ServerView[] = [];
    for (const body of [
      { name: "ollama", url: `${ollama.url}/`, kind: "ollama" },
      { name: "vllm", url: vllm.url, kind: "openai" },
      { name: "probed", url: vllm.url },
    ]) {
      const res = await gw.admin("/admin/servers", { method: "POST", body: JSON.stringify(body) });
      assert.equal(res.status, 201, await res.clone().text());
      added.push((await res.json()) as ServerView);
    }
    assert.deepEqual(
      added.map((s) => [s.name, s.url, s.kind, s.up]),
      [
        ["ollama", ollama.url, "ollama", true],
        ["vllm", vllm.url, "openai", true],
        ["probed", vllm.url, "openai", true],
      ],
    );

    const viaOllama = await gw.admin("/api/chat", { method: "POST", body: chat("olla") });
    assert.equal(viaOllama.status, 200, await viaOllama.clone().text());
    assert.equal(viaOllama.headers.get("x-flotilla-server"), "ollama");
    const viaOpenAI = await gw.admin("/v1/chat/completions", { method: "POST", body: chat("oai") });
    assert.equal(viaOpenAI.status, 200, await viaOpenAI.clone().text());
    assert.match(viaOpenAI.headers.get("x-flotilla-server") ?? "", /^(vllm|probed)$/);
    assert.ok(ollama.requests.some((r) => r.path === "/ollama/api/chat"));
    assert.ok(vllm.requests.some((r) => r.path === "/gpu/vllm/v1/chat/completions"));
    assert.ok(![...ollama.requests, ...vllm.requests].some((r) => r.path.startsWith("/api/") || r.path.startsWith("/v1/")), "nothing sent outside the base path");
  });

  test("an address that cannot be used is a 400 naming url, never a 500, and leaves no row", async () => {
    const dir = dataDir();
    gw = await startFlotilla({ dataDir: dir });
    const refused = [
      "http://[::1]:x/",
      "http://a b/",
      "http://h:99999",
      "http://",
      "http://[::1",
      "http://u:p@127.0.0.1:9",
      "http://127.0.0.1:9/?model=x",
      "http://127.0.0.1:9/#top",
      "http://127.0.0.1:9/v1",
      "https://proxy.example/vllm/v1/",
      "ftp://127.0.0.1:9",
      `http://${"h".repeat(2100)}`,
    ];
    for (const [i, url] of refused.entries()) {
      const res = await gw.admin("/admin/servers", { method: "POST", body: JSON.stringify({ name: `bad${i}`, url }) });
      assert.equal(res.status, 400, `${url}: ${res.status}`);
      const body = (await res.json()) as { error: string; code: string };
      assert.equal(body.code, "invalid_request", url);
      assert.match(body.error, /url/, url);
    }
    // Odd but usable: an international name, a long path, an encoded space. Each is added, and a PUT to a bad one is refused.
    const usable = ["http://bücher.example:9/ollama", `http://127.0.0.1:9/${"p".repeat(1900)}`, "http://127.0.0.1:9/a%20b/"];
    for (const [i, url] of usable.entries()) {
      const res = await gw.admin("/admin/servers", { method: "POST", body: JSON.stringify({ name: `odd${i}`, url, kind: "ollama" }) });
      assert.equal(res.status, 201, `${url}: ${await res.text()}`);
    }
    const put = await gw.admin("/admin/servers/odd0", { method: "PUT", body: JSON.stringify({ url: "http://h:99999" }) });
    assert.equal(put.status, 400);
    const { servers } = (await (await gw.admin("/admin/servers")).json()) as { servers: ServerView[] };
    assert.deepEqual(servers.map((s) => s.name).sort(), ["odd0", "odd1", "odd2"]);
    assert.equal(servers.find((s) => s.name === "odd0")?.url, "http://bücher.example:9/ollama", "shown as given");
    await gw.stop();
    gw = undefined;
    assert.deepEqual(await storedServers(dir), ["odd0", "odd1", "odd2"]);
  });

  test("a stored server that cannot be used is logged and skipped at start: the gateway serves the others, and the bad one can be removed", async () => {
    const dir = dataDir();
    const store = await openStore({ dataDir: dir });
    const row = (name: string, url: string): ServerInput => ({ name, url, kind: "ollama", api_key: null, max_concurrency: null, vram_bytes: null, node_exporter_url: null, drained: false, source: "api" });
    await store.servers.upsert(row("bad", "http://[::1"));
    await store.servers.upsert(row("pasted", "http://127.0.0.1:9/v1"));
    await store.close();
    const good = await sims.start({ kind: "ollama", models: ["m:latest"] });

    gw = await startFlotilla({ dataDir: dir, servers: [`${good.url},ollama`] });
    assert.match(gw.output(), /server bad \(http:\/\/\[::1\) cannot be used and is skipped: .*is not a URL/);
    assert.match(gw.output(), /server pasted \(http:\/\/127\.0\.0\.1:9\/v1\) cannot be used and is skipped: .*ends in \/v1/);
    const { servers } = (await (await gw.admin("/admin/servers")).json()) as { servers: ServerView[] };
    const bad = servers.find((s) => s.name === "bad");
    assert.equal(bad?.up, false);
    assert.match(bad?.last_error ?? "", /^cannot be used: /);
    assert.equal(servers.find((s) => s.url === good.url)?.up, true);
    assert.equal((await gw.admin("/api/chat", { method: "POST", body: chat("m") })).status, 200);

    assert.equal((await gw.admin("/admin/servers/bad", { method: "DELETE" })).status, 204);
    assert.equal((await gw.admin("/admin/servers/bad")).status, 404);
    const fixed = await gw.admin("/admin/servers/pasted", { method: "PUT", body: JSON.stringify({ url: good.url }) });
    assert.equal(fixed.status, 200);
    assert.equal(((await fixed.json()) as ServerView).up, true);
    await gw.stop();
    gw = undefined;
    assert.deepEqual((await storedServers(dir)).sort(), ["127.0.0.1:" + good.port, "pasted"]);
  });
});

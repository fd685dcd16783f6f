import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, afterEach, describe, test } from "node:test";
import OpenAI from "openai";
import { ADMIN_KEY, simulators, startFlotilla, waitFor, type Flotilla } from "./harness.js";

const sims = simulators();
let gw: Flotilla | undefined;
const root = mkdtempSync(join(tmpdir(), "flotilla-plugins-e2e-"));

afterEach(async () => {
  await gw?.stop();
  gw = undefined;
  await sims.closeAll();
});
after(() => rmSync(root, { recursive: true, force: true }));

/** Routes every request to the server named "second", refuses model "forbidden", and writes each record's status and server to a file. */
const PLUGIN = `import { appendFileSync } from "node:fs";
export default {
  name: "e2e-second",
  version: "0.1.0",
  setup(api) {
    api.addStrategy("second-first", (candidates) => [...candidates].sort((a, b) => Number(b.name === "second") - Number(a.name === "second")));
    api.beforeRoute((request) => {
      if (request.model === "forbidden") throw api.refuse("model forbidden is not served here", 403);
    });
    api.afterResponse((record) => appendFileSync(api.options.count_file, record.status + " " + record.server + "\\n"));
  },
};
`;

function pluginsDir(files: Record<string, string>): string {
  const dir = mkdtempSync(join(root, "plugins-"));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

const chat = (model: string) => JSON.stringify({ model, stream: false, messages: [{ role: "user", content: "hi" }] });

describe("plugins on a real gateway", () => {
  test("a plugin's strategy routes every request to its pick, its hook refuses a model in each API's shape, and GET /api/plugins lists it", async () => {
    const first = await sims.start({ kind: "ollama", models: ["m:latest"], loaded: ["m:latest"] });
    const second = await sims.start({ kind: "ollama", models: ["m:latest"] });
    const countFile = join(root, "count.txt");
    mkdirSync(root, { recursive: true });
    const yaml = [
      "servers:",
      `  - { name: first, url: "${first.url}", kind: ollama }`,
      `  - { name: second, url: "${second.url}", kind: ollama }`,
      "routing: { strategy: second-first }",
      `plugins: { dir: "${pluginsDir({ "e2e-second.mjs": PLUGIN })}", options: { e2e-second: { count_file: "${countFile}" } } }`,
    ].join("\n");
    gw = await startFlotilla({ yaml });

    // The built-in ranking would pick "first" (the model is loaded there); the strategy picks "second".
    for (let i = 0; i < 3; i++) {
      const res = await gw.admin("/api/chat", { method: "POST", body: chat("m") });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get("x-flotilla-server"), "second");
    }
    const openai = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: ADMIN_KEY, maxRetries: 0 });
    const { response } = await openai.chat.completions.create({ model: "m", messages: [{ role: "user", content: "hi" }] }).withResponse();
    assert.equal(response.headers.get("x-flotilla-server"), "second");
    assert.equal(first.requests.filter((r) => r.path === "/api/chat").length, 0);

    await assert.rejects(openai.chat.completions.create({ model: "forbidden", messages: [{ role: "user", content: "hi" }] }), (err: unknown) => {
      assert.ok(err instanceof OpenAI.PermissionDeniedError);
      assert.match(err.message, /model forbidden is not served here/);
      return true;
    });
    const onV1 = await gw.admin("/v1/chat/completions", { method: "POST", body: chat("forbidden") });
    assert.equal(onV1.status, 403);
    const v1Body = (await onV1.json()) as { error: { message: string; type: string; code: string } };
    assert.deepEqual([v1Body.error.message, v1Body.error.type, v1Body.error.code], ["model forbidden is not served here", "permission_error", "forbidden"]);
    const onApi = await gw.admin("/api/chat", { method: "POST", body: chat("forbidden") });
    assert.equal(onApi.status, 403);
    const apiBody = (await onApi.json()) as { error: unknown; code: string };
    assert.deepEqual([apiBody.error, apiBody.code], ["model forbidden is not served here", "forbidden"]);

    const listed = await gw.admin("/api/plugins");
    assert.equal(listed.status, 200);
    const { plugins } = (await listed.json()) as { plugins: Array<Record<string, unknown>> };
    assert.equal(plugins.length, 1);
    assert.deepEqual(
      { name: plugins[0].name, version: plugins[0].version, status: plugins[0].status, error: plugins[0].error, adds: plugins[0].adds },
      { name: "e2e-second", version: "0.1.0", status: "loaded", error: null, adds: { strategies: ["second-first"], channels: [], hooks: ["beforeRoute", "afterResponse"] } },
    );
    const anonymous = await fetch(`${gw.url}/api/plugins`);
    assert.equal(anonymous.status, 401);

    // The after hook saw the four answered requests (refused ones never reach routing, nor the audit log).
    const lines = await waitFor("the after hook's four lines", () => {
      const text = readFileSync(countFile, "utf8").trim().split("\n");
      return text.length >= 4 && text;
    });
    assert.deepEqual(lines, ["200 second", "200 second", "200 second", "200 second"]);
  });

  test("a plugin that fails to load stops the start with exit 1, naming the plugin and the reason", async () => {
    const dir = pluginsDir({ "good.mjs": PLUGIN, "broken.mjs": 'export default { name: "broken" };' });
    const err = await startFlotilla({ yaml: `plugins: { dir: "${dir}" }` }).then(
      (started) => {
        gw = started;
        return assert.fail("the gateway should not have started");
      },
      (e: Error) => e,
    );
    assert.match(err.message, /flotilla exited with 1/);
    assert.match(err.message, /plugin broken \(.*broken\.mjs\): wrong shape: setup\(api\) must be a function/);
  });
});

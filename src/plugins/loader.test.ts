import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { fileURLToPath } from "node:url";
import { Router } from "../fleet/router.js";
import { fleetOf } from "../fleet/test-nodes.js";
import { loadPlugins, PluginLoadError, type Plugins } from "./index.js";

const root = mkdtempSync(join(tmpdir(), "flotilla-plugins-"));
after(() => rmSync(root, { recursive: true, force: true }));

const GOOD = `export default {
  name: "good", version: "1.2.3",
  setup(api) {
    api.addStrategy("reverse", (candidates) => [...candidates].reverse());
    api.addChannel({ name: "pager", async send() {} });
    api.beforeRoute(() => undefined);
    api.afterResponse(() => undefined);
  },
};`;

let dirs = 0;
/** A plugins directory holding these files (name → source). */
function pluginsDir(files: Record<string, string>): string {
  const dir = join(root, `d${dirs++}`);
  mkdirSync(dir);
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, ".."), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

function load(dir: string, more: { required?: boolean; strategy?: string; packages?: string[] } = {}): Promise<Plugins> {
  return loadPlugins({
    data_dir: root,
    plugins: { dir, packages: more.packages ?? [], required: more.required ?? true, options: {} },
    routing: { strategy: more.strategy },
  });
}

async function problemsOf(loading: Promise<unknown>): Promise<string> {
  const err = await loading.then(() => assert.fail("the load should have failed"), (e: unknown) => e);
  assert.ok(err instanceof PluginLoadError, String(err));
  return err.message;
}

test("a good plugin is listed with what it adds, and its channel is handed out", async () => {
  const plugins = await load(pluginsDir({ "good.mjs": GOOD, "README.md": "not a plugin" }));
  assert.equal(plugins.list.length, 1);
  const [good] = plugins.list;
  assert.deepEqual(
    { name: good.name, version: good.version, status: good.status, kind: good.source.kind, adds: good.adds },
    { name: "good", version: "1.2.3", status: "loaded", kind: "file", adds: { strategies: ["reverse"], channels: ["pager"], hooks: ["beforeRoute", "afterResponse"] } },
  );
  assert.deepEqual(plugins.channels.map((c) => c.name), ["pager"]);
  assert.equal(typeof plugins.beforeRoute, "function");
});

test("a folder with a package.json is a plugin, entered by its main file", async () => {
  const dir = pluginsDir({ "folder/package.json": JSON.stringify({ type: "module", main: "lib/entry.js" }), "folder/lib/entry.js": GOOD });
  const [plugin] = (await load(dir)).list;
  assert.deepEqual([plugin.name, plugin.status, plugin.source.kind], ["good", "loaded", "folder"]);
});

test("a plugin that cannot be imported stops the start, naming its file and the import error", async () => {
  const message = await problemsOf(load(pluginsDir({ "broken.mjs": "export default {" })));
  assert.match(message, /plugin broken\.mjs \(.*broken\.mjs\): cannot be imported: SyntaxError: Unexpected end of input/);
});

test("a default export of the wrong shape is refused with what is wrong", async () => {
  const dir = pluginsDir({ "a.mjs": "export const plugin = {};", "b.mjs": 'export default { name: "b" };', "c.mjs": 'export default { name: "bad name!", setup() {} };' });
  const message = await problemsOf(load(dir));
  assert.match(message, /plugin a\.mjs .*wrong shape: the module has no default export/);
  assert.match(message, /plugin b \(.*b\.mjs\): wrong shape: setup\(api\) must be a function/);
  assert.match(message, /wrong shape: name must be/);
});

test("a second plugin of the same name is refused, the first stays", async () => {
  const dir = pluginsDir({ "1.mjs": GOOD, "2.mjs": GOOD });
  const message = await problemsOf(load(dir));
  assert.match(message, /plugin good \(.*2\.mjs\): a plugin named "good" is already loaded/);
  const listed = (await load(dir, { required: false })).list;
  assert.deepEqual(listed.map((p) => p.status), ["loaded", "failed"]);
});

test("a setup that throws, or adds a strategy name already taken, fails its plugin and adds nothing", async () => {
  const dir = pluginsDir({
    "a.mjs": GOOD,
    "b.mjs": 'export default { name: "thrower", setup(api) { api.addChannel({ name: "x", async send() {} }); throw new Error("no token"); } };',
    "c.mjs": 'export default { name: "copycat", setup(api) { api.addStrategy("reverse", (c) => c); } };',
  });
  const plugins = await load(dir, { required: false });
  assert.deepEqual(plugins.list.map((p) => [p.name, p.status, p.error]), [
    ["good", "loaded", null],
    ["thrower", "failed", "setup failed: no token"],
    ["copycat", "failed", 'setup failed: strategy "reverse" is already added by plugin "good"'],
  ]);
  assert.deepEqual(plugins.channels.map((c) => c.name), ["pager"]);
});

test("with plugins.required false a broken plugin is listed as failed and the rest load", async () => {
  const plugins = await load(pluginsDir({ "broken.mjs": "throw new Error('boom at import')", "good.mjs": GOOD }), { required: false });
  assert.deepEqual(plugins.list.map((p) => [p.name, p.status]), [["broken.mjs", "failed"], ["good", "loaded"]]);
  assert.match(plugins.list[0].error ?? "", /cannot be imported: Error: boom at import/);
});

test("a routing.strategy no plugin adds stops the start, even when plugins are optional", async () => {
  const message = await problemsOf(load(pluginsDir({ "good.mjs": GOOD }), { required: false, strategy: "fastest" }));
  assert.match(message, /routing\.strategy: no loaded plugin adds a strategy "fastest" \(added: reverse\)/);
});

test("an npm package that is not installed stops the start, naming the package", async () => {
  const message = await problemsOf(load(pluginsDir({}), { packages: ["flotilla-plugin-not-installed"] }));
  assert.match(message, /plugin flotilla-plugin-not-installed \(flotilla-plugin-not-installed\): cannot be imported/);
});

test("the default plugins directory may be missing; a named one may not", async () => {
  const none = await loadPlugins({ data_dir: join(root, "nowhere"), plugins: { packages: [], required: true, options: {} }, routing: {} });
  assert.deepEqual(none.list, []);
  assert.equal(none.strategy, undefined);
  assert.equal(none.beforeRoute, undefined);
  const file = join(root, "a-file");
  writeFileSync(file, "");
  const underFile = await loadPlugins({ data_dir: join(file, "data"), plugins: { packages: [], required: true, options: {} }, routing: {} });
  assert.deepEqual(underFile.list, [], "a data dir under a file is the data dir's problem, told when it is made");
  assert.match(await problemsOf(load(join(root, "missing"))), /plugins\.dir .*missing: ENOENT/);
});

test("the configured strategy orders the router's candidates; servers it leaves out follow", async () => {
  const plugins = await load(pluginsDir({ "s.mjs": 'export default { name: "s", setup(api) { api.addStrategy("last-only", (c) => [c[c.length - 1]]); } };' }), { strategy: "last-only" });
  const { fleet } = fleetOf({ name: "a", models: ["m:latest"], loaded: ["m:latest"] }, { name: "b", models: ["m:latest"] }, { name: "c", models: ["m:latest"] });
  const router = new Router(fleet, { fallbackQuantization: false, affinity: false });
  router.strategy = plugins.strategy;
  const found = router.candidates({ model: "m" });
  assert.ok(found.ok);
  const order = found.choices.map((c) => c.node.name);
  // The router ranks a (loaded) first, then b and c in turn; the strategy picks its last, and the rest follow in the router's order.
  assert.equal(order.length, 3);
  assert.notEqual(order[0], "a");
  assert.equal(order[1], "a");
});

test("the example plugin sends a model to the server that served it least recently", async () => {
  const example = fileURLToPath(new URL("../../../plugins/example-least-recent", import.meta.url));
  const plugins = await loadPlugins({ data_dir: root, plugins: { dir: join(example, ".."), packages: [], required: true, options: { "example-least-recent": { log_every: 0 } } }, routing: { strategy: "least-recent" } });
  assert.deepEqual(plugins.list[0].adds, { strategies: ["least-recent"], channels: [], hooks: ["afterResponse"] });
  const { fleet } = fleetOf({ name: "a", models: ["m:latest"], loaded: ["m:latest"] }, { name: "b", models: ["m:latest"] });
  const router = new Router(fleet, { fallbackQuantization: false, affinity: false });
  router.strategy = plugins.strategy;
  const first = () => {
    const found = router.candidates({ model: "m" });
    assert.ok(found.ok);
    return found.choices[0].node.name;
  };
  const record = plugins.afterResponse(() => undefined);
  const served = (server: string) => record({ requestId: "r", surface: "ollama", method: "POST", path: "/api/chat", model: "m", server, status: 200, latencyMs: 1, retries: 0 });
  assert.equal(first(), "a", "never served: the router's own order (a has the model loaded)");
  served("a");
  assert.equal(first(), "b");
  await new Promise((resolve) => setTimeout(resolve, 2));
  served("b");
  assert.equal(first(), "a");
});

import assert from "node:assert/strict";
import { forEachBackend } from "./test-backends.js";

// Admins' changes to the model catalog: the same contract on SQLite and PostgreSQL.

const T0 = 1_700_000_000_000;

forEachBackend("a catalog entry's row keeps what was not written again, and starts active and unedited", async (store) => {
  const first = await store.modelCatalogs.putCatalog({ model_key: "llama3:latest", name: "llama3", active: false }, T0);
  assert.deepEqual([first.edits, first.edited, first.active, first.created_at, first.updated_at], ["{}", 0, 0, T0, T0]);
  const edited = await store.modelCatalogs.putCatalog({ model_key: "llama3:latest", name: "llama3:latest", edits: '{"notes":"n"}', edited: true }, T0 + 5);
  assert.deepEqual([edited.name, edited.edits, edited.edited, edited.active, edited.created_at, edited.updated_at], ["llama3:latest", '{"notes":"n"}', 1, 0, T0, T0 + 5]);
  const fresh = await store.modelCatalogs.putCatalog({ model_key: "qwen:7b", name: "qwen:7b", edits: '{"tags":["a"]}', edited: true }, T0);
  assert.equal(fresh.active, 1);
  assert.deepEqual((await store.modelCatalogs.listCatalogs()).map((r) => r.model_key), ["llama3:latest", "qwen:7b"]);
  assert.equal(await store.modelCatalogs.getCatalog("nope:latest"), undefined);
});

forEachBackend("many entries turn on and off in one write, and the disabled list names only those off", async (store) => {
  await store.modelCatalogs.putCatalogs(["a:latest", "b:latest", "c:latest"].map((k) => ({ model_key: k, name: k, active: false })), T0);
  await store.modelCatalogs.putCatalogs([{ model_key: "b:latest", name: "b", active: true }], T0 + 1);
  await store.modelCatalogs.putProviderModels(
    [
      { id: "pm_1", node: "gpu-1", model_key: "a:latest", name: "a", active: false },
      { id: "pm_2", node: "gpu-2", model_key: "a:latest", name: "A", active: true },
    ],
    T0,
  );
  const disabled = await store.modelCatalogs.disabled();
  assert.deepEqual(disabled.catalogs.sort(), ["a:latest", "c:latest"]);
  assert.deepEqual(disabled.providerModels, [{ node: "gpu-1", model_key: "a:latest" }]);
});

forEachBackend("a provider model's edits and active flag are written apart", async (store) => {
  const row = await store.modelCatalogs.putProviderModel({ id: "pm_x", node: "n1", model_key: "m:latest", name: "m", edits: '{"category":"Chat"}' }, T0);
  assert.deepEqual([row.edits, row.active], ['{"category":"Chat"}', 1]);
  const off = await store.modelCatalogs.putProviderModel({ id: "pm_x", node: "n1", model_key: "m:latest", name: "m", active: false }, T0 + 1);
  assert.deepEqual([off.edits, off.active, off.updated_at], ['{"category":"Chat"}', 0, T0 + 1]);
  assert.deepEqual((await store.modelCatalogs.listProviderModels()).map((r) => r.id), ["pm_x"]);
  assert.equal((await store.modelCatalogs.getProviderModel("pm_x"))?.node, "n1");
});

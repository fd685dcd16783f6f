import assert from "node:assert/strict";
import { after, before } from "node:test";
import { startSim, type SimServer } from "../../test/sim/index.js";
import { loadConfig } from "../config/index.js";
import { Sealer } from "../kernel/index.js";
import type { Store } from "../store/index.js";
import { forEachBackend } from "../store/test-backends.js";
import { FleetService } from "./service.js";

const SECRET = "the-gateway-secret-key-these-tests-seal-with";
const API_KEY = "sk-upstream-0123456789abcdef";

let sim: SimServer;
before(async () => {
  sim = await startSim({ kind: "openai", models: ["m"] });
});
after(() => sim.close());

/** A fleet over `store` sealing under `secret`; model operations are not used here. */
async function startFleet(store: Store, secret = SECRET): Promise<{ fleet: FleetService; warnings: string[] }> {
  const warnings: string[] = [];
  const unused = () => Promise.reject(new Error("not used in these tests"));
  const fleet = new FleetService(loadConfig({}, {}), store, { info: () => undefined, warn: (m) => warnings.push(m) }, { call: unused, statusError: unused }, new Sealer(secret, "server api_key"));
  await fleet.start();
  return { fleet, warnings };
}

/** The api_key column as the database holds it. */
async function storedApiKey(store: Store, name: string): Promise<string> {
  const { api_key } = await store.db.selectFrom("servers").select("api_key").where("name", "=", name).executeTakeFirstOrThrow();
  assert.ok(api_key !== null, `server ${name} has no api_key`);
  return api_key;
}

function sentBearer(): boolean {
  return sim.requests.some((r) => r.headers.authorization === `Bearer ${API_KEY}`);
}

forEachBackend("a server's api_key is stored sealed, and still sent upstream as a bearer, before and after a restart", async (store, backend) => {
  const first = await startFleet(store);
  sim.requests.length = 0;
  await first.fleet.upsertServer({ name: "keyed", url: sim.url, kind: "openai", api_key: API_KEY });
  await first.fleet.close();
  const stored = await storedApiKey(store, "keyed");
  assert.ok(stored.startsWith("enc:v1:") && !stored.includes(API_KEY), `stored as ${stored}`);
  assert.ok(sentBearer(), "the poll carried the key");

  sim.requests.length = 0;
  const other = await backend.open();
  try {
    const again = await startFleet(other);
    await again.fleet.close();
    assert.equal(again.fleet.fleet.get("keyed")?.spec.api_key, API_KEY);
    assert.ok(sentBearer(), "the key opened after the restart");
  } finally {
    await other.close();
  }
});

forEachBackend("an api_key stored as plain text before sealing is sealed at the next start, and still sent upstream", async (store) => {
  await store.servers.upsert({ name: "old", url: sim.url, kind: "openai", api_key: API_KEY, max_concurrency: null, vram_bytes: null, drained: false, source: "api", node_exporter_url: null });
  sim.requests.length = 0;
  const { fleet } = await startFleet(store);
  await fleet.close();
  const stored = await storedApiKey(store, "old");
  assert.ok(stored.startsWith("enc:v1:") && !stored.includes(API_KEY), `stored as ${stored}`);
  assert.equal(new Sealer(SECRET, "server api_key").open(stored), API_KEY);
  assert.ok(sentBearer());
});

forEachBackend("a server whose api_key does not open under this secret_key is listed down with why and a warning, never used; the others start", async (store) => {
  const first = await startFleet(store);
  await first.fleet.upsertServer({ name: "keyed", url: sim.url, kind: "openai", api_key: API_KEY });
  await first.fleet.upsertServer({ name: "open", url: sim.url, kind: "openai" });
  await first.fleet.close();
  const sealed = await storedApiKey(store, "keyed");

  const { fleet, warnings } = await startFleet(store, "another-secret-key-that-is-32-characters-long");
  await fleet.close();
  const keyed = fleet.fleet.get("keyed");
  assert.equal(keyed?.up, false);
  assert.match(keyed?.lastError ?? "", /^cannot be used: the stored server api_key cannot be opened/);
  assert.equal(keyed?.spec.api_key, undefined, "listed without a key");
  assert.ok(fleet.fleet.get("open"));
  const warning = warnings.find((w) => w.startsWith("server keyed ("));
  assert.match(warning ?? "", /cannot be opened: it was sealed under another secret_key/);
  assert.ok(warnings.every((w) => !w.includes(API_KEY) && !w.includes(sealed)), "neither the key nor its sealed form is logged");
  assert.equal(await storedApiKey(store, "keyed"), sealed, "the row is left as it was, for a start with the right key");
});

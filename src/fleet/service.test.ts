import assert from "node:assert/strict";
import { loadConfig } from "../config/index.js";
import { FlotillaError, Sealer } from "../kernel/index.js";
import type { ServerInput, Store } from "../store/index.js";
import { forEachBackend } from "../store/test-backends.js";
import { FleetService } from "./service.js";
import { HttpTransport, UnusableTransport } from "./transport.js";

const unused = async (): Promise<never> => {
  throw new Error("no model operations in these tests");
};

function fleetService(store: Store, warnings: string[] = []): FleetService {
  const config = loadConfig({}, { FLOTILLA_POLL__TIMEOUT_MS: "200" });
  return new FleetService(config, store, { info: () => undefined, warn: (m) => warnings.push(m) }, { call: unused, statusError: unused }, new Sealer("a secret these tests seal api_keys under", "server api_key"));
}

const row = (name: string, url: string): ServerInput => ({ name, url, kind: "openai", api_key: null, max_concurrency: null, vram_bytes: null, node_exporter_url: null, drained: false, source: "api" });

forEachBackend("a stored server that cannot be used is listed down with why; the others are used, and it can be changed or removed", async (store) => {
  await store.servers.upsert(row("bad", "http://[::1"));
  await store.servers.upsert(row("pasted", "http://127.0.0.1:9/v1"));
  await store.servers.upsert(row("proxied", "http://127.0.0.1:9/vllm"));
  const warnings: string[] = [];
  const service = fleetService(store, warnings);
  try {
    await service.start();
    const bad = service.fleet.get("bad");
    assert.ok(bad?.transport instanceof UnusableTransport);
    assert.equal(bad.up, false);
    assert.match(bad.lastError ?? "", /cannot be used: "http:\/\/\[::1" is not a URL/);
    assert.ok(warnings.some((w) => w.includes("server bad (http://[::1) cannot be used")));
    assert.match(service.fleet.get("pasted")?.lastError ?? "", /ends in \/v1/);
    assert.ok(service.fleet.get("proxied")?.transport instanceof HttpTransport, "a base path is usable");

    const fixed = await service.upsertServer({ name: "pasted", url: "http://127.0.0.1:9", kind: "openai" });
    assert.ok(fixed.transport instanceof HttpTransport);
    assert.equal((await store.servers.get("pasted"))?.url, "http://127.0.0.1:9");
    assert.equal(await service.removeServer("bad"), true);
    assert.equal(service.fleet.get("bad"), undefined);
    assert.equal(await store.servers.get("bad"), undefined);
  } finally {
    await service.close();
  }
});

forEachBackend("a server is added or changed as one unit: a pool that cannot be made writes no row, a failed write leaves the fleet as it was", async (store) => {
  const service = fleetService(store);
  try {
    await service.start();
    const before = await service.upsertServer({ name: "a", url: "http://127.0.0.1:9", kind: "openai" });

    const prepare = service.fleet.prepare.bind(service.fleet);
    service.fleet.prepare = () => {
      throw new TypeError("invalid url");
    };
    await assert.rejects(service.upsertServer({ name: "b", url: "http://127.0.0.1:9/x" }), (err: FlotillaError) => err.status === 400 && err.param === "url");
    assert.equal(await store.servers.get("b"), undefined);
    service.fleet.prepare = prepare;

    store.servers.upsert = async () => {
      throw new Error("disk full");
    };
    await assert.rejects(service.upsertServer({ name: "a", url: "http://127.0.0.2:9" }), /disk full/);
    await assert.rejects(service.upsertServer({ name: "c", url: "http://127.0.0.3:9" }), /disk full/);
    assert.equal(service.fleet.get("a"), before);
    assert.equal(before.spec.url, "http://127.0.0.1:9");
    assert.equal(service.fleet.get("c"), undefined);
  } finally {
    await service.close();
  }
});

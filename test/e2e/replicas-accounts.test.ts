import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { startFlotilla, type Flotilla } from "./harness.js";

// Two replicas on one database (here one SQLite file) must behave as one gateway.

describe("accounts across two replicas sharing a database", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "flotilla-replicas-"));
  let a: Flotilla;
  let b: Flotilla;

  before(async () => {
    a = await startFlotilla({ dataDir, env: { FLOTILLA_AUTH__GUESTS: "true" } });
    b = await startFlotilla({ dataDir, env: { FLOTILLA_AUTH__GUESTS: "true" } });
  });
  after(async () => {
    await Promise.all([a.stop(), b.stop()]);
    rmSync(dataDir, { recursive: true, force: true });
  });

  const post = (gw: Flotilla, path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(gw.url + path, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });
  const me = (gw: Flotilla, bearer: string) => fetch(`${gw.url}/auth/me`, { headers: { authorization: `Bearer ${bearer}` } });

  test("a key made on one replica works on the other at once", async () => {
    await a.admin("/api/users", { method: "POST", body: JSON.stringify({ username: "roamer", password: "roamer password" }) });
    const login = await post(b, "/api/auth/login", { username: "roamer", password: "roamer password" });
    const cookie = (login.headers.get("set-cookie") ?? "").split(";")[0];
    const made = (await (await post(b, "/auth/api-keys", { name: "roaming" }, { cookie })).json()) as { key: string };
    assert.equal((await me(a, made.key)).status, 200);
    assert.equal((await me(a, "flt_never_made_anywhere_0000")).status, 401);
  });

  test("tokens from one replica are honoured, refreshed and their reuse detected on the other", async () => {
    const guest = (await (await post(a, "/auth/guest-login", {})).json()) as { access_token: string; refresh_token: string };
    assert.equal((await me(b, guest.access_token)).status, 200, "both replicas sign with the one key in the database");
    const refreshed = await post(b, "/auth/refresh-token", { refresh_token: guest.refresh_token });
    assert.equal(refreshed.status, 200);
    const next = (await refreshed.json()) as { refresh_token: string };
    assert.equal((await post(a, "/auth/refresh-token", { refresh_token: guest.refresh_token })).status, 401, "the spent token is known to both");
    assert.equal((await post(b, "/auth/refresh-token", { refresh_token: next.refresh_token })).status, 401, "and its reuse ended the session for both");
  });
});

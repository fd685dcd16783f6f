import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { ADMIN_KEY, startFlotilla, type Flotilla } from "./harness.js";

type Level = "public" | "inference" | "user" | "admin";
type Who = "anonymous" | "guest" | "user" | "admin session" | "admin key";

interface Operation {
  method: string;
  path: string;
  level: Level;
}

let gw: Flotilla;
const credentials = new Map<Who, Record<string, string>>();

async function post(path: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(gw.url + path, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });
}

/** A user of `role` and a key of theirs, made by the admin. */
async function keyFor(role: "guest" | "user", adminCookie: string): Promise<string> {
  const created = await post("/api/users", { username: `matrix-${role}`, role }, { cookie: adminCookie });
  const { user } = (await created.json()) as { user: { id: string } };
  const key = await post(`/api/users/${user.id}/api-key`, {}, { cookie: adminCookie });
  return ((await key.json()) as { key: string }).key;
}

before(async () => {
  gw = await startFlotilla();
  const setup = await post("/api/auth/setup", { username: "matrix-admin", password: "matrix password" });
  const adminCookie = (setup.headers.get("set-cookie") ?? "").split(";")[0];
  credentials.set("anonymous", {});
  credentials.set("guest", { authorization: `Bearer ${await keyFor("guest", adminCookie)}` });
  credentials.set("user", { authorization: `Bearer ${await keyFor("user", adminCookie)}` });
  credentials.set("admin session", { cookie: adminCookie });
  credentials.set("admin key", { authorization: `Bearer ${ADMIN_KEY}` });
});
after(() => gw.stop());

function mayCall(level: Level, who: Who): boolean {
  if (level === "public") return true;
  if (who === "anonymous") return false;
  return level !== "admin" || who.startsWith("admin");
}

/** Every operation of the OpenAPI document, with the level its route declares; logout last, as it ends the session it is sent. */
async function operations(): Promise<Operation[]> {
  const doc = (await (await fetch(`${gw.url}/api/client/openapi.json`)).json()) as { paths: Record<string, Record<string, { "x-flotilla-auth"?: Level }>> };
  const ops: Operation[] = [];
  for (const [path, methods] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(methods)) {
      assert.ok(op["x-flotilla-auth"], `${method.toUpperCase()} ${path} declares its auth level in the document`);
      ops.push({ method: method.toUpperCase(), path, level: op["x-flotilla-auth"] as Level });
    }
  }
  return ops.sort((a, b) => Number(a.path === "/api/auth/logout") - Number(b.path === "/api/auth/logout"));
}

test("every route in the OpenAPI document answers each caller as its declared level says", async () => {
  const ops = await operations();
  const listed = new Set(ops.map((o) => `${o.method} ${o.path}`));
  for (const known of ["POST /v1/chat/completions", "POST /api/chat", "GET /admin/servers", "GET /api/users", "GET /api/auth/me", "GET /api/workers/connect"]) {
    assert.ok(listed.has(known), `${known} is in the document`);
  }
  assert.ok(ops.some((o) => o.level === "admin") && ops.some((o) => o.level === "user") && ops.some((o) => o.level === "inference"));
  const wrong: string[] = [];
  for (const op of ops) {
    const url = gw.url + op.path.replace(/\{(\w+)\}/g, "matrix-$1");
    for (const [who, headers] of credentials) {
      const init: RequestInit = { method: op.method, headers: { ...headers } };
      if (op.method !== "GET" && op.method !== "HEAD" && op.method !== "DELETE") {
        init.body = "{}";
        (init.headers as Record<string, string>)["content-type"] = "application/json";
      }
      const res = await fetch(url, init);
      await res.arrayBuffer();
      const expected = mayCall(op.level, who) ? "allowed" : who === "anonymous" ? 401 : 403;
      const ok = expected === "allowed" ? res.status !== 401 && res.status !== 403 : res.status === expected;
      if (!ok) wrong.push(`${op.method} ${op.path} (${op.level}) as ${who}: ${res.status}, expected ${expected}`);
    }
  }
  assert.deepEqual(wrong, []);
});

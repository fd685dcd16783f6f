import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { ADMIN_KEY, startFlotilla, type Flotilla } from "./harness.js";

type Level = "public" | "inference" | "user" | "member" | "owner" | "admin";
type Who = "anonymous" | "guest" | "user" | "other user" | "admin session" | "admin key";

interface Operation {
  method: string;
  path: string;
  level: Level;
  /** false: guests are refused although the level lets them in (x-flotilla-guests). */
  guests: boolean;
}

let gw: Flotilla;
const credentials = new Map<Who, Record<string, string>>();

async function post(path: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(gw.url + path, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });
}

/** A user made by the admin, signed in by password, with a key they made themselves (seed 002). */
async function userKey(username: string, adminCookie: string): Promise<string> {
  await post("/api/users", { username, password: "matrix password" }, { cookie: adminCookie });
  const login = await post("/api/auth/login", { username, password: "matrix password" });
  const cookie = (login.headers.get("set-cookie") ?? "").split(";")[0];
  const key = await post("/auth/api-keys", { name: "matrix" }, { cookie });
  return ((await key.json()) as { key: string }).key;
}

/**
 * How to make a resource that "user" owns, for each owner-only route, and
 * the route's path to it: the test fails for an owner route without one, so a
 * new route cannot go unchecked.
 */
const OWNED: Record<string, () => Promise<string>> = {
  "/auth/api-keys/{id}": async () => {
    const res = await post("/auth/api-keys", { name: "owned" }, credentials.get("user"));
    return `/auth/api-keys/${((await res.json()) as { id: string }).id}`;
  },
  ...Object.fromEntries(
    ["/v1/webhooks/{id}", "/v1/webhooks/{id}/deliveries", "/v1/webhooks/{id}/test"].map((route) => [
      route,
      async () => {
        // A documentation address (TEST-NET-1): public, so it may be saved; nothing answers there.
        const res = await post("/v1/webhooks", { url: "https://192.0.2.1/hook", events: ["webhook.test"] }, credentials.get("user"));
        return route.replace("{id}", ((await res.json()) as { id: string }).id);
      },
    ]),
  ),
  "/queue/{task_id}/{queue_name}": async () => {
    const res = await post("/queue/add", { queue: "matrix", data: {} }, credentials.get("user"));
    return `/queue/${((await res.json()) as { info: { id: string } }).info.id}/matrix`;
  },
};

before(async () => {
  // A queue for the owner route of tasks; its consumer is never reached (workers take its tasks).
  gw = await startFlotilla({ yaml: "queues:\n  - { name: matrix, consumer: workers }\n", env: { FLOTILLA_WEBHOOKS__TIMEOUT_MS: "500", FLOTILLA_AUTH__GUESTS: "true" } });
  const setup = await post("/api/auth/setup", { username: "matrix-admin", password: "matrix password" });
  const adminCookie = (setup.headers.get("set-cookie") ?? "").split(";")[0];
  const guest = (await (await post("/auth/guest-login", {})).json()) as { access_token: string };
  credentials.set("anonymous", {});
  credentials.set("guest", { authorization: `Bearer ${guest.access_token}` });
  credentials.set("user", { authorization: `Bearer ${await userKey("matrix-user", adminCookie)}` });
  credentials.set("other user", { authorization: `Bearer ${await userKey("matrix-other", adminCookie)}` });
  credentials.set("admin session", { cookie: adminCookie });
  credentials.set("admin key", { authorization: `Bearer ${ADMIN_KEY}` });
});
after(() => gw.stop());

/** What the auth layer must answer: "allowed" (the handler's own answer), or its refusal. */
function expected({ level, guests }: Operation, who: Who): "allowed" | 401 | 403 | 404 {
  if (level === "public") return "allowed";
  if (who === "anonymous") return 401;
  if (who === "guest" && !guests) return 403;
  if (level === "admin") return who.startsWith("admin") ? "allowed" : 403;
  if (level === "member") return who === "guest" ? 403 : "allowed";
  if (level === "owner") return who === "user" || who.startsWith("admin") ? "allowed" : 404;
  return "allowed";
}

/** Routes that change the caller run last, so the others meet the callers as made: the upgrade of the guest, then those that end sessions. */
const LAST: Record<string, number> = { "/auth/upgrade": 1, "/api/auth/logout": 2, "/auth/logout": 2, "/auth/revoke": 2 };

/** Every operation of the OpenAPI document, with the level its route declares. */
async function operations(): Promise<Operation[]> {
  const doc = (await (await fetch(`${gw.url}/api/client/openapi.json`)).json()) as { paths: Record<string, Record<string, { "x-flotilla-auth"?: Level; "x-flotilla-guests"?: false }>> };
  const ops: Operation[] = [];
  for (const [path, methods] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(methods)) {
      assert.ok(op["x-flotilla-auth"], `${method.toUpperCase()} ${path} declares its auth level in the document`);
      ops.push({ method: method.toUpperCase(), path, level: op["x-flotilla-auth"] as Level, guests: op["x-flotilla-guests"] !== false });
    }
  }
  return ops.sort((a, b) => (LAST[a.path] ?? 0) - (LAST[b.path] ?? 0));
}

/** An answer the auth layer gave: 401/403 with its own codes, or the owner check's 404. */
function refusedAs(status: number, code: string | undefined): 401 | 403 | 404 | undefined {
  if (status === 401 && code === "unauthorized") return 401;
  if (status === 403 && code === "forbidden") return 403;
  if (status === 404 && code === "not_found") return 404;
  return undefined;
}

test("every route in the OpenAPI document answers each caller as its declared level says", async () => {
  const ops = await operations();
  const listed = new Set(ops.map((o) => `${o.method} ${o.path}`));
  for (const known of ["POST /v1/chat/completions", "POST /api/chat", "GET /admin/servers", "GET /api/users", "GET /api/auth/me", "GET /api/workers/connect", "POST /auth/api-keys", "DELETE /auth/api-keys/{id}"]) {
    assert.ok(listed.has(known), `${known} is in the document`);
  }
  for (const level of ["admin", "user", "member", "owner", "inference"] as const) assert.ok(ops.some((o) => o.level === level), `some route is ${level}`);
  assert.ok(ops.some((o) => `${o.method} ${o.path}` === "POST /queue/add" && !o.guests), "queueing a task is no guest's");
  const wrong: string[] = [];
  for (const op of ops) {
    if (op.level === "owner") assert.ok(OWNED[op.path], `the matrix knows how to make a resource for owner route ${op.path}`);
    for (const [who, headers] of credentials) {
      const path = op.level === "owner" ? await OWNED[op.path]() : op.path;
      const init: RequestInit = { method: op.method, headers: { ...headers } };
      if (op.method !== "GET" && op.method !== "HEAD" && op.method !== "DELETE") {
        init.body = "{}";
        (init.headers as Record<string, string>)["content-type"] = "application/json";
      }
      const res = await fetch(gw.url + path.replace(/\{(\w+)\}/g, "matrix-$1"), init);
      // A stream that was let through never ends by itself: its status is the answer.
      const streaming = res.headers.get("content-type") === "text/event-stream";
      if (streaming) await res.body?.cancel();
      const text = streaming ? "" : await res.text();
      let code: string | undefined;
      try {
        // Ollama's shape, OpenAI's, or JSON-RPC's on the MCP endpoints (Flotilla's code in error.data).
        const body = JSON.parse(text) as { code?: string; error?: { code?: string | number; data?: { code?: string } } };
        code = body.code ?? body.error?.data?.code ?? (typeof body.error?.code === "string" ? body.error.code : undefined);
      } catch {
        code = undefined;
      }
      const want = expected(op, who);
      const got = refusedAs(res.status, code);
      // A handler may refuse too (a wrong password, a bad refresh token): never with the auth layer's codes.
      const ok = want === "allowed" ? got === undefined || (op.level === "owner" ? false : got === 404) : got === want;
      if (!ok) wrong.push(`${op.method} ${op.path} (${op.level}) as ${who}: ${res.status} ${code ?? ""}, expected ${want}`);
    }
  }
  assert.deepEqual(wrong, []);
});

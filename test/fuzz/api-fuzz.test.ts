import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Agent, request } from "undici";
import { errorShapeOf } from "../../src/kernel/index.js";
import { postgresTestDatabase } from "../../src/store/test-backends.js";
import { ADMIN_KEY, startFlotilla, type Flotilla } from "../e2e/harness.js";
import { startSim, type SimServer } from "../sim/index.js";
import { casesFor, operationsOf, type FuzzCase, type Operation } from "./cases.js";

/**
 * Every operation of the gateway's own OpenAPI document, sent malformed,
 * mistyped, oversized and odd, by an anonymous caller, a bad key and the
 * admin. No answer may be a 5xx or take over 10 s, every error is in its
 * surface's shape, and the gateway serves afterwards.
 *
 * On SQLite and on PostgreSQL (where numbers meet narrower columns). `npm
 * test` sends a seeded sample per operation; FLOTILLA_FUZZ=full sends every
 * case (about 11,600 requests a store; .ci/run does). FLOTILLA_FUZZ_SEED
 * picks another sample.
 */
const FULL = process.env.FLOTILLA_FUZZ === "full";
const SEED = Number(process.env.FLOTILLA_FUZZ_SEED ?? 20261203);
const HANG_MS = 10_000;
const IN_FLIGHT = 6;

interface Caller {
  name: string;
  headers: Record<string, string>;
  /** Cases per operation in the sampled run (besides the valid request). */
  sampled: number;
}

const CALLERS: Caller[] = [
  { name: "anonymous", headers: {}, sampled: 3 },
  { name: "bad key", headers: { authorization: "Bearer flt_not_a_key_of_this_gateway_0000" }, sampled: 2 },
  { name: "admin", headers: { authorization: `Bearer ${ADMIN_KEY}` }, sampled: 12 },
];

/** A small seeded generator (mulberry32): the same sample every run unless the seed changes. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function pick<T>(items: T[], n: number, next: () => number): T[] {
  const pool = [...items];
  const out: T[] = [];
  while (out.length < n && pool.length > 0) out.push(pool.splice(Math.floor(next() * pool.length), 1)[0]);
  return out;
}

/** What is wrong with an answer, if anything. */
function problemWith(c: FuzzCase, status: number, type: string, text: string, ms: number): string | undefined {
  if (ms > HANG_MS) return `took ${Math.round(ms)} ms`;
  if (status >= 500) return `answered ${status}: ${text.slice(0, 300)}`;
  if (status < 400 || !type.includes("json")) return undefined;
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    return `answered ${status} with a body that is not JSON: ${text.slice(0, 200)}`;
  }
  // The path as sent: the client resolves `..` segments before it goes out.
  const shape = errorShapeOf(new URL(c.url, "http://gateway").pathname);
  if (shape === "jsonrpc") {
    const e = body.error as Record<string, unknown> | undefined;
    const data = e?.data as Record<string, unknown> | undefined;
    const ok = body.jsonrpc === "2.0" && "id" in body && e && typeof e.code === "number" && typeof e.message === "string" && typeof data?.request_id === "string";
    return ok ? undefined : `answered ${status} without the JSON-RPC error shape: ${text.slice(0, 200)}`;
  }
  if (shape === "openai") {
    const e = body.error as Record<string, unknown> | undefined;
    const ok = e && typeof e.message === "string" && typeof e.type === "string" && typeof e.code === "string" && "param" in e && typeof e.request_id === "string";
    return ok ? undefined : `answered ${status} without the OpenAI error shape: ${text.slice(0, 200)}`;
  }
  const ok = typeof body.error === "string" && typeof body.code === "string" && typeof body.request_id === "string" && typeof body.timestamp === "string";
  return ok ? undefined : `answered ${status} without the Ollama error shape: ${text.slice(0, 200)}`;
}

describe(`the whole API, fuzzed (${FULL ? "every case" : `a sample, seed ${SEED}`})`, () => {
  let ollama: SimServer;
  let openai: SimServer;
  const agent = new Agent({ connections: IN_FLIGHT * 2, headersTimeout: HANG_MS + 1000, bodyTimeout: HANG_MS + 1000 });

  before(async () => {
    ollama = await startSim({ kind: "ollama", models: ["m:latest"], loaded: ["m:latest"], recordRequests: false });
    openai = await startSim({ kind: "openai", models: ["o"], recordRequests: false });
  });
  after(async () => {
    await agent.close();
    await Promise.all([ollama?.close(), openai?.close()]);
  });

  async function send(gw: Flotilla, c: FuzzCase, caller: Caller): Promise<string | undefined> {
    const started = performance.now();
    try {
      const res = await request(gw.url + c.url, {
        dispatcher: agent,
        method: c.method as "GET",
        headers: { ...caller.headers, ...c.headers },
        body: c.body,
        signal: AbortSignal.timeout(HANG_MS),
      });
      const type = String(res.headers["content-type"] ?? "");
      if (type.startsWith("text/event-stream")) {
        res.body.destroy();
        return problemWith(c, res.statusCode, type, "", performance.now() - started);
      }
      const text = await res.body.text();
      return problemWith(c, res.statusCode, type, text, performance.now() - started);
    } catch (err) {
      return `failed after ${Math.round(performance.now() - started)} ms: ${(err as Error).name}: ${(err as Error).message}`;
    }
  }

  async function fuzz(gw: Flotilla): Promise<void> {
    const doc = (await (await fetch(`${gw.url}/api/client/openapi.json`)).json()) as Parameters<typeof operationsOf>[0];
    const operations = operationsOf(doc);
    assert.ok(operations.length > 100, `the document lists ${operations.length} operations`);
    const next = random(SEED);
    const work: Array<{ op: Operation; caller: Caller; c: FuzzCase }> = [];
    for (const op of operations) {
      const [valid, ...rest] = casesFor(op);
      for (const caller of CALLERS) {
        const chosen = FULL ? rest : pick(rest, op.auth === "public" && caller.name !== "admin" ? 8 : caller.sampled, next);
        for (const c of [valid, ...chosen]) work.push({ op, caller, c });
      }
    }
    const problems: string[] = [];
    let sent = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: IN_FLIGHT }, async () => {
        for (let item = work.shift(); item; item = work.shift()) {
          const problem = await send(gw, item.c, item.caller);
          sent++;
          if (problem) problems.push(`${item.op.method} ${item.op.path} [${item.caller.name}] ${item.c.name} (${item.c.method} ${item.c.url.slice(0, 120)}): ${problem}`);
        }
      }),
    );
    console.log(`fuzz: ${sent} requests over ${operations.length} operations in ${Math.round(performance.now() - started)} ms, ${problems.length} problems`);
    assert.deepEqual(problems.slice(0, 40), [], `${problems.length} problems`);

    assert.equal((await fetch(`${gw.url}/healthz`)).status, 200);
    const chat = await gw.admin("/v1/chat/completions", { method: "POST", body: JSON.stringify({ model: "m", messages: [{ role: "user", content: "still there?" }] }) });
    assert.equal(chat.status, 200);
  }

  for (const store of ["sqlite", "postgres"] as const) {
    test(`no 5xx, no hang, every error in its surface's shape; the gateway serves afterwards [${store}]`, async (t) => {
      const database = store === "postgres" ? await postgresTestDatabase(t) : undefined;
      if (store === "postgres" && !database) return;
      const gw = await startFlotilla({ servers: [`${ollama.url},ollama`, `${openai.url},openai`], env: database ? { DATABASE_URL: database.url } : {} });
      try {
        await fuzz(gw);
      } finally {
        await gw.stop();
        await database?.cleanup();
      }
    });
  }
});

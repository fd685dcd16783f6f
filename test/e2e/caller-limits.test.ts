import assert from "node:assert/strict";
import { afterEach, describe, test } from "node:test";
import OpenAI from "openai";
import { ADMIN_KEY, simulators, startFlotilla, userKey, type Flotilla } from "./harness.js";

const sims = simulators();
let gw: Flotilla | undefined;

afterEach(async () => {
  await gw?.stop();
  gw = undefined;
  await sims.closeAll();
});

const json = (body: unknown, headers: Record<string, string> = {}) => ({ method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });
const bearer = (key: string) => ({ authorization: `Bearer ${key}` });
const chat = (model: string, content = "hi") => ({ model, stream: false, messages: [{ role: "user", content }] });

async function guestToken(gateway: Flotilla): Promise<string> {
  const res = await fetch(`${gateway.url}/auth/guest-login`, { method: "POST" });
  assert.equal(res.status, 201);
  return ((await res.json()) as { access_token: string }).access_token;
}

describe("guests", () => {
  test("are off unless the operator turns them on", async () => {
    gw = await startFlotilla();
    const res = await fetch(`${gw.url}/auth/guest-login`, { method: "POST" });
    assert.equal(res.status, 403);
    assert.match(((await res.json()) as { error: string }).error, /guest accounts are turned off/);
  });

  test("when on, may not queue tasks, send large bodies, keep many requests open or call often", async () => {
    const upstream = await sims.start({ kind: "ollama", models: ["m:latest"], latencyMs: 600 });
    gw = await startFlotilla({
      servers: [`${upstream.url},ollama`],
      // Callers' own in-flight limits off: a guest is still held to theirs.
      yaml: "auth:\n  guests: true\n  guest_limits: { requests_per_minute: 5 }\nlimits:\n  requests_in_flight_per_key: 0\n  body_bytes_in_flight_per_key: 0\nqueues:\n  - name: batch\n",
    });
    const token = await guestToken(gw);
    const queued = await fetch(`${gw.url}/queue/add`, json({ queue: "batch", data: chat("m") }, bearer(token)));
    assert.equal(queued.status, 403);
    assert.match(((await queued.json()) as { error: string }).error, /guests cannot do this/);

    const big = await fetch(`${gw.url}/api/chat`, json(chat("m", "x".repeat(1_100_000)), bearer(token)));
    assert.equal(big.status, 413);
    assert.match(((await big.json()) as { error: string }).error, /auth\.guest_limits\.body_bytes/);

    // Two at once (auth.guest_limits.requests_in_flight); the third is refused while they run.
    const running = [0, 1].map(() => fetch(`${gw!.url}/api/chat`, json(chat("m"), bearer(token))));
    await new Promise((r) => setTimeout(r, 200));
    const third = await fetch(`${gw.url}/api/chat`, json(chat("m"), bearer(token)));
    assert.equal(third.status, 429);
    assert.match(((await third.json()) as { error: string }).error, /requests open, the most it may have at once/);
    assert.deepEqual((await Promise.all(running)).map((r) => r.status), [200, 200]);

    // Five requests a minute, whatever the route: the big body and the three chats made four (the refused queue call never got that far).
    assert.equal((await fetch(`${gw.url}/auth/me`, { headers: bearer(token) })).status, 200);
    const limited = await fetch(`${gw.url}/auth/me`, { headers: bearer(token) });
    assert.equal(limited.status, 429);
    assert.ok(Number(limited.headers.get("retry-after")) >= 1);
  });
});

describe("what one caller may hold at once", () => {
  test("an inference body over the default limit (8 MB) is refused before it is read", async () => {
    const upstream = await sims.start({ kind: "ollama", models: ["m:latest"] });
    gw = await startFlotilla({ servers: [`${upstream.url},ollama`] });
    const res = await fetch(`${gw.url}/v1/chat/completions`, json(chat("m", "x".repeat(9 * 1024 * 1024)), bearer(ADMIN_KEY)));
    assert.equal(res.status, 413);
    assert.match(((await res.json()) as { error: { message: string } }).error.message, /over 8388608 bytes.*limits\.inference_body_bytes/);
  });

  test("one key's open requests and held body bytes are capped, and other keys are not held back by it", async () => {
    const upstream = await sims.start({ kind: "ollama", models: ["m:latest"], latencyMs: 800 });
    gw = await startFlotilla({
      servers: [`${upstream.url},ollama`],
      yaml: "limits:\n  requests_in_flight_per_key: 3\n  body_bytes_in_flight_per_key: 3000000\n",
    });
    const [busy, other] = [await userKey(gw, "busy"), await userKey(gw, "other")];
    const open = [0, 1, 2].map(() => fetch(`${gw!.url}/api/chat`, json(chat("m"), bearer(busy))));
    await new Promise((r) => setTimeout(r, 300));
    const fourth = await fetch(`${gw.url}/api/chat`, json(chat("m"), bearer(busy)));
    assert.equal(fourth.status, 429);
    assert.equal(fourth.headers.get("retry-after"), "1");
    assert.equal((await fetch(`${gw.url}/api/chat`, json(chat("m"), bearer(other)))).status, 200);
    assert.deepEqual((await Promise.all(open)).map((r) => r.status), [200, 200, 200]);

    // Bytes: two 1.2 MB bodies are held together; a third would pass 3 MB. A body sent without Content-Length counts as it comes.
    const heavy = () => json(chat("m", "x".repeat(1_200_000)), bearer(busy));
    const held = [0, 1].map(() => fetch(`${gw!.url}/api/chat`, heavy()));
    await new Promise((r) => setTimeout(r, 300));
    const over = await fetch(`${gw.url}/api/chat`, heavy());
    assert.equal(over.status, 429);
    assert.match(((await over.json()) as { error: string }).error, /limits\.body_bytes_in_flight_per_key/);
    const chunked = await fetch(`${gw.url}/api/chat`, {
      ...heavy(),
      body: new Blob([heavy().body]).stream(),
      duplex: "half",
    } as RequestInit);
    assert.equal(chunked.status, 429);
    assert.deepEqual((await Promise.all(held)).map((r) => r.status), [200, 200]);
    // Everything was given back: the same bodies go through again.
    assert.deepEqual((await Promise.all([0, 1].map(() => fetch(`${gw!.url}/api/chat`, heavy())))).map((r) => r.status), [200, 200]);
  });

  test("a key flooding one model on a busy server does not starve another key's request for another model there", async () => {
    const upstream = await sims.start({ kind: "ollama", models: ["x:latest", "y:latest"], loaded: ["x:latest", "y:latest"], latencyMs: 300 });
    gw = await startFlotilla({ yaml: `servers:\n  - { name: gpu, url: "${upstream.url}", kind: ollama, max_concurrency: 2 }\n` });
    const [flooder, other] = [await userKey(gw, "flooder"), await userKey(gw, "patient")];
    const client = (key: string) => new OpenAI({ baseURL: `${gw!.url}/v1`, apiKey: key, maxRetries: 0 });
    let floodDone = 0;
    const flood = Array.from({ length: 24 }, () =>
      client(flooder)
        .chat.completions.create({ model: "x", messages: [{ role: "user", content: "hi" }] })
        .then(() => floodDone++),
    );
    await new Promise((r) => setTimeout(r, 150));
    const answer = await client(other).chat.completions.create({ model: "y", messages: [{ role: "user", content: "hi" }] });
    const doneBefore = floodDone;
    assert.equal(answer.choices[0].finish_reason, "stop");
    // Two were running and the first slot freed went to the other key: far fewer than the 24 queued ahead of it.
    assert.ok(doneBefore <= 6, `${doneBefore} of the flood's requests were answered before the other key's one`);
    await Promise.all(flood);
  });
});

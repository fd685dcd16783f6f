import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import OpenAI from "openai";
import type { Response as OpenAIResponse, ResponseStreamEvent } from "openai/resources/responses/responses";
import { startSim, type SimServer } from "../sim/index.js";
import { ADMIN_KEY, startFlotilla, waitFor, type Flotilla } from "./harness.js";
import { startReceiver } from "./receiver.js";
import { startAgent, type WorkerProcess } from "./worker-harness.js";

const CLIENT_KEY = "relay-key-0123456789";
const FIXTURE = join(process.cwd(), "dist/test/fixtures/mcp-server.js");
const QUEUE = "flotilla.responses";
const laptopTools = [{ type: "mcp" as const, server_label: "laptop", require_approval: "never" as const }];

describe("background responses (OpenAI's background mode), run as tasks of the gateway's job queue", () => {
  let sim: SimServer;
  let gw: Flotilla;
  let laptop: WorkerProcess;
  let client: OpenAI;
  const fixtureLog = join(mkdtempSync(join(tmpdir(), "flotilla-mcp-")), "events.log");
  /** What the fixture MCP server noted: "slow started", "slow cancelled", … */
  const noted = (line: string) => {
    try {
      return readFileSync(fixtureLog, "utf8").split("\n").filter((l) => l === line).length;
    } catch {
      return 0;
    }
  };

  before(async () => {
    sim = await startSim({ kind: "openai", models: ["m"] });
    gw = await startFlotilla({ servers: [`${sim.url},openai`], env: { FLOTILLA_CLIENT_KEY: CLIENT_KEY, FLOTILLA_WEBHOOKS__ALLOW_PRIVATE: "true" } });
    laptop = startAgent("mcp-relay", ["--server", gw.url, "--client-key", CLIENT_KEY, "--id", "laptop", "--", process.execPath, FIXTURE], { MCP_FIXTURE_LOG: fixtureLog });
    await laptop.waitForLog(/callers reach it/);
    client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: ADMIN_KEY, maxRetries: 0 });
  });
  after(async () => {
    await laptop?.stop();
    await gw?.stop();
    await sim?.close();
    rmSync(join(fixtureLog, ".."), { recursive: true, force: true });
  });

  /** Polls a response until it has ended, as the background guide does. */
  const ended = (id: string, as = client) =>
    waitFor(`response ${id} to end`, async () => {
      const response = await as.responses.retrieve(id);
      return response.status === "queued" || response.status === "in_progress" ? undefined : response;
    });
  const collect = async (stream: AsyncIterable<ResponseStreamEvent>) => {
    const events: ResponseStreamEvent[] = [];
    for await (const event of stream) events.push(event);
    return events;
  };

  test("answers at once, queued; runs the gateway's MCP tool and the model's answer; polled until completed", async () => {
    sim.scriptToolCalls([{ name: "laptop__echo", arguments: { text: "in the background" } }]);
    const created = await client.responses.create({ model: "m", input: "say it back", background: true, tools: laptopTools });
    assert.deepEqual([created.status, created.background, created.output], ["queued", true, []]);
    const done = await ended(created.id);
    assert.equal(done.status, "completed");
    assert.deepEqual(done.output.map((o) => o.type), ["mcp_list_tools", "mcp_call", "message"]);
    assert.equal((done.output[1] as { output: string }).output, "echo: in the background");
    assert.equal(done.output_text, "The quick brown fox jumps over lazy dogs.");
    assert.ok(done.usage && done.usage.total_tokens > 0);

    const next = await client.responses.create({ model: "m", input: "and then?", previous_response_id: done.id, background: true });
    assert.equal((await ended(next.id)).status, "completed", "a background response continues one");
  });

  test("polled, it shows its output as it goes; cancelled, it stops its tool call, ends cancelled, and tells the owner's webhooks", async () => {
    const receiver = await startReceiver();
    const hooked = () => receiver.received.map((r) => JSON.parse(r.body) as { type: string; data: { id: string } });
    try {
      assert.equal((await gw.admin("/v1/webhooks", { method: "POST", body: JSON.stringify({ url: receiver.url, events: ["response.cancelled"] }) })).status, 201);

      const started = noted("slow started");
      sim.scriptToolCalls([{ name: "laptop__slow", arguments: {} }]);
      const slow = await client.responses.create({ model: "m", input: "take your time", background: true, tools: laptopTools });
      await waitFor("the slow tool call", () => noted("slow started") > started);
      const running = await client.responses.retrieve(slow.id);
      assert.equal(running.status, "in_progress");
      assert.deepEqual(running.output.map((o) => o.type), ["mcp_list_tools"], "the items done so far");

      const cancelled = await client.responses.cancel(slow.id);
      assert.deepEqual([cancelled.id, cancelled.status, cancelled.output], [slow.id, "cancelled", []]);
      await waitFor("the MCP server to hear of the cancel", () => noted("slow cancelled") > started);
      assert.equal((await client.responses.retrieve(slow.id)).status, "cancelled");
      assert.equal((await client.responses.cancel(slow.id)).status, "cancelled", "cancelling twice answers the cancelled response");
      await waitFor("the response.cancelled event", () => hooked().find((e) => e.data.id === slow.id));
      assert.equal(hooked().find((e) => e.data.id === slow.id)?.type, "response.cancelled");
    } finally {
      await receiver.close();
    }

    const done = await ended((await client.responses.create({ model: "m", input: "quick", background: true })).id);
    await assert.rejects(client.responses.cancel(done.id), (err: { status?: number; message: string }) => err.status === 400 && /Cannot cancel a completed response/.test(err.message));
    const now = await client.responses.create({ model: "m", input: "not in the background" });
    await assert.rejects(client.responses.cancel(now.id), (err: { status?: number; message: string }) => err.status === 400 && /Cannot cancel a synchronous response/.test(err.message));

    const before = noted("slow cancelled");
    sim.scriptToolCalls([{ name: "laptop__slow", arguments: {} }]);
    const doomed = await client.responses.create({ model: "m", input: "never mind", background: true, tools: laptopTools });
    await waitFor("the slow tool call", () => (noted("slow started") > noted("slow cancelled") ? true : undefined));
    await client.responses.delete(doomed.id);
    await waitFor("a deleted response to stop its tool call", () => noted("slow cancelled") > before);
    await assert.rejects(client.responses.retrieve(doomed.id), (err: Error) => err instanceof OpenAI.NotFoundError);
  });

  test("streamed: its events live from 0, replayed the same from 0 or after a number, and gathered by the SDK's helper", async () => {
    const live = await collect(await client.responses.create({ model: "m", input: "stream it", background: true, stream: true }));
    const id = (live[0] as { response: OpenAIResponse }).response.id;
    assert.deepEqual(live.map((e) => e.sequence_number), live.map((_, i) => i));
    assert.deepEqual(live.slice(0, 3).map((e) => [e.type, (e as { response: OpenAIResponse }).response.status]), [["response.created", "queued"], ["response.queued", "queued"], ["response.in_progress", "in_progress"]]);
    assert.equal(live.at(-1)?.type, "response.completed");
    const text = live.filter((e) => e.type === "response.output_text.delta").map((e) => (e as { delta: string }).delta);
    assert.equal(text.join(""), "The quick brown fox jumps over lazy dogs.");

    assert.deepEqual(await collect(await client.responses.retrieve(id, { stream: true })), live, "replayed from 0");
    assert.deepEqual(await collect(await client.responses.retrieve(id, { stream: true, starting_after: 3 })), live.slice(4), "after number 3");
    assert.deepEqual(await collect(await client.responses.retrieve(id, { stream: true, starting_after: live.length + 5 })), [], "after its end: nothing");
    const gathered = await client.responses.stream({ response_id: id }).finalResponse();
    assert.deepEqual([gathered.id, gathered.status, gathered.output_text], [id, "completed", "The quick brown fox jumps over lazy dogs."]);

    const unstreamed = await client.responses.create({ model: "m", input: "quiet", background: true });
    await assert.rejects(client.responses.retrieve(unstreamed.id, { stream: true }), (err: { status?: number; message: string }) => err.status === 400 && /not created with stream=true/.test(err.message));
    const now = await client.responses.create({ model: "m", input: "now" });
    await assert.rejects(client.responses.retrieve(now.id, { stream: true }), (err: { status?: number; message: string }) => err.status === 400 && /not created with background=true/.test(err.message));
  });

  test("streamed: a caller that goes away leaves it running; another follows it live until its cancel ends the stream", async () => {
    const started = noted("slow started");
    sim.scriptToolCalls([{ name: "laptop__slow", arguments: {} }]);
    const first: ResponseStreamEvent[] = [];
    for await (const event of await client.responses.create({ model: "m", input: "wait", background: true, stream: true, tools: laptopTools })) {
      first.push(event);
      if (event.type === "response.output_item.done") break;
    }
    const id = (first[0] as { response: OpenAIResponse }).response.id;
    await waitFor("the slow tool call", () => noted("slow started") > started);
    assert.equal((await client.responses.retrieve(id)).status, "in_progress", "the run goes on without its caller");

    const following = collect(await client.responses.retrieve(id, { stream: true, starting_after: first.length - 1 }));
    await client.responses.cancel(id);
    const rest = await following;
    assert.deepEqual(rest.map((e) => e.sequence_number), rest.map((_, i) => first.length + i));
    const last = rest.at(-1) as { type: string; response: OpenAIResponse };
    assert.deepEqual([last.type, last.response.status], ["response.failed", "cancelled"], "a cancel ends the stream as OpenAI ends it");
    assert.deepEqual(await collect(await client.responses.retrieve(id, { stream: true })), [...first, ...rest]);
  });

  test("input_items: the request's items with ids, newest first, a page at a time in either order", async () => {
    const input = [
      { role: "developer" as const, content: "Be brief." },
      { role: "user" as const, content: "first" },
      { role: "user" as const, content: [{ type: "input_text" as const, text: "second" }] },
    ];
    const response = await client.responses.create({ model: "m", input, background: true });
    const newestFirst = await client.responses.inputItems.list(response.id);
    assert.deepEqual(
      newestFirst.data.map((item) => [item.type, (item as { content: Array<{ type: string; text: string }> }).content]),
      [["message", [{ type: "input_text", text: "second" }]], ["message", [{ type: "input_text", text: "first" }]], ["message", [{ type: "input_text", text: "Be brief." }]]],
    );
    assert.ok(newestFirst.data.every((item) => /^msg_/.test(item.id)));
    assert.equal(newestFirst.has_more, false);

    const page = await client.responses.inputItems.list(response.id, { order: "asc", limit: 2 });
    assert.deepEqual([page.data.length, page.has_more], [2, true]);
    const all: string[] = [];
    for await (const item of client.responses.inputItems.list(response.id, { order: "asc", limit: 2 })) all.push(item.id);
    assert.deepEqual(all, newestFirst.data.map((item) => item.id).reverse(), "the same ids on every page");

    const plain = await client.responses.create({ model: "m", input: "just this" });
    const [only] = (await client.responses.inputItems.list(plain.id)).data as Array<{ role: string; content: unknown }>;
    assert.deepEqual([only.role, only.content], ["user", [{ type: "input_text", text: "just this" }]]);
    await ended(response.id);
  });

  test("it runs as the key that made it: queued while its queue is paused, and failed unrun when that key is revoked meanwhile", async () => {
    const { user } = (await (await gw.admin("/api/users", { method: "POST", body: JSON.stringify({ username: "night", password: "a long enough password" }) })).json()) as { user: { id: string } };
    const keyOf = async () => (await (await gw.admin(`/api/users/${user.id}/api-key`, { method: "POST", body: "{}" })).json()) as { id: string; key: string };
    const [revoked, kept] = [await keyOf(), await keyOf()];
    const asRevoked = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: revoked.key, maxRetries: 0 });
    const asKept = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: kept.key, maxRetries: 0 });

    assert.equal((await gw.admin(`/api/cli/queues/${QUEUE}/pause`, { method: "POST" })).status, 200);
    const chats = sim.requests.length;
    const waiting = await asRevoked.responses.create({ model: "m", input: "later", background: true });
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal((await asKept.responses.retrieve(waiting.id)).status, "queued", "the same user's other key sees it waiting");
    assert.equal((await gw.admin(`/auth/api-keys/${revoked.id}`, { method: "DELETE" })).status, 204);
    assert.equal((await gw.admin(`/api/cli/queues/${QUEUE}/unpause`, { method: "POST" })).status, 200);
    const failed = await ended(waiting.id, asKept);
    assert.equal(failed.status, "failed");
    assert.equal(failed.error?.code, "unauthorized");
    assert.equal(sim.requests.slice(chats).filter((r) => r.path === "/v1/chat/completions").length, 0, "no model call was made");

    const refused = await gw.admin("/queue/add", { method: "POST", body: JSON.stringify({ queue: QUEUE, data: { response_id: waiting.id } }) });
    assert.equal(refused.status, 400, "the queue takes no task from the queue API");
  });

  test("a restart fails the response it interrupted, without running it again, and runs the one still queued", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "flotilla-e2e-"));
    let first: Flotilla | undefined = await startFlotilla({ servers: [`${sim.url},openai`], dataDir });
    let second: Flotilla | undefined;
    try {
      const before = new OpenAI({ baseURL: `${first.url}/v1`, apiKey: ADMIN_KEY, maxRetries: 0 });
      sim.fail({ path: "/v1/chat/completions", hang: true, times: 1 });
      const chats = () => sim.requests.filter((r) => r.path === "/v1/chat/completions").length;
      const atStart = chats();
      const interrupted = await before.responses.create({ model: "m", input: "cut short", background: true });
      await waitFor("it to run", async () => (await before.responses.retrieve(interrupted.id)).status === "in_progress" && chats() > atStart);
      assert.equal((await first.admin(`/api/cli/queues/${QUEUE}/pause`, { method: "POST" })).status, 200);
      const waiting = await before.responses.create({ model: "m", input: "after the restart", background: true });
      await first.stop();
      first = undefined;

      second = await startFlotilla({ servers: [`${sim.url},openai`], dataDir });
      const after = new OpenAI({ baseURL: `${second.url}/v1`, apiKey: ADMIN_KEY, maxRetries: 0 });
      assert.deepEqual([(await after.responses.retrieve(interrupted.id)).status, (await after.responses.retrieve(waiting.id)).status], ["in_progress", "queued"], "as they were, the queue paused");
      assert.equal((await second.admin(`/api/cli/queues/${QUEUE}/unpause`, { method: "POST" })).status, 200);
      const failed = await ended(interrupted.id, after);
      assert.deepEqual([failed.status, failed.error?.code], ["failed", "shutting_down"]);
      assert.equal((await ended(waiting.id, after)).status, "completed");
      assert.equal(chats(), atStart + 2, "the interrupted response was not run again");
    } finally {
      await first?.stop();
      await second?.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { Agent, OpenAIProvider, Runner, setTracingDisabled, tool } from "@openai/agents";
import Database from "better-sqlite3";
import OpenAI from "openai";
import { z } from "zod";
import { startSim, type SimServer } from "../sim/index.js";
import { ADMIN_KEY, startFlotilla, waitFor, type Flotilla } from "./harness.js";
import { startReceiver } from "./receiver.js";
import { startAgent, type WorkerProcess } from "./worker-harness.js";

const CLIENT_KEY = "relay-key-0123456789";
const FIXTURE = join(process.cwd(), "dist/test/fixtures/mcp-server.js");

interface ChatBody {
  messages: Array<{ role: string; content: string | null; tool_calls?: Array<{ id: string; function: { name: string; arguments: string } }>; tool_call_id?: string }>;
  tools?: Array<{ function: { name: string } }>;
}

describe("the Responses API (seed 002) on the fleet, with the gateway's MCP tools", () => {
  let sim: SimServer;
  let gw: Flotilla;
  let laptop: WorkerProcess;
  let client: OpenAI;

  before(async () => {
    sim = await startSim({ kind: "openai", models: ["m"] });
    gw = await startFlotilla({ servers: [`${sim.url},openai`], env: { FLOTILLA_CLIENT_KEY: CLIENT_KEY, FLOTILLA_WEBHOOKS__ALLOW_PRIVATE: "true" } });
    laptop = startAgent("mcp-relay", ["--server", gw.url, "--client-key", CLIENT_KEY, "--id", "laptop", "--", process.execPath, FIXTURE]);
    await laptop.waitForLog(/callers reach it/);
    client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: ADMIN_KEY, maxRetries: 0 });
  });
  after(async () => {
    await laptop?.stop();
    await gw?.stop();
    await sim?.close();
  });

  const lastChat = () => sim.requests.filter((r) => r.path === "/v1/chat/completions").at(-1)?.body as ChatBody;

  test("a text answer through the official client: created, retrieved, continued with previous_response_id, deleted", async () => {
    const first = await client.responses.create({ model: "m", input: "hello there", instructions: "Be brief." });
    assert.equal(first.object, "response");
    assert.equal(first.status, "completed");
    assert.match(first.id, /^resp_/);
    assert.equal(first.output_text, "The quick brown fox jumps over lazy dogs.");
    assert.ok(first.usage && first.usage.input_tokens > 0 && first.usage.output_tokens > 0);
    assert.deepEqual(lastChat().messages.map((m) => m.role), ["system", "user"]);

    const again = await client.responses.retrieve(first.id);
    assert.deepEqual(again.output, first.output);

    const second = await client.responses.create({ model: "m", input: "and then?", previous_response_id: first.id });
    assert.equal(second.previous_response_id, first.id);
    assert.deepEqual(
      lastChat().messages.map((m) => [m.role, m.content]),
      [
        ["user", "hello there"],
        ["assistant", "The quick brown fox jumps over lazy dogs."],
        ["user", "and then?"],
      ],
      "the history comes back; the instructions do not",
    );

    await client.responses.delete(first.id);
    await assert.rejects(client.responses.retrieve(first.id), (err: Error) => err instanceof OpenAI.NotFoundError);
  });

  test("a call of an MCP tool is made by the gateway and its result fed back until the model answers", async () => {
    sim.scriptToolCalls([{ name: "laptop__echo", arguments: { text: "from the model" } }]);
    const response = await client.responses.create({ model: "m", input: "say it back", tools: [{ type: "mcp", server_label: "laptop", require_approval: "never" }] });
    assert.equal(response.status, "completed");
    assert.deepEqual(response.output.map((o) => o.type), ["mcp_list_tools", "mcp_call", "message"]);
    const listed = response.output[0] as { tools: Array<{ name: string }> };
    assert.deepEqual(listed.tools.map((t) => t.name).sort(), ["big", "echo", "slow"]);
    const call = response.output[1] as { server_label: string; name: string; arguments: string; output: string; status: string };
    assert.deepEqual([call.server_label, call.name, JSON.parse(call.arguments), call.output, call.status], ["laptop", "echo", { text: "from the model" }, "echo: from the model", "completed"]);
    const fedBack = lastChat().messages.find((m) => m.role === "tool");
    assert.equal(fedBack?.content, "echo: from the model", "the tool's result went back to the model");
    assert.ok(response.output_text.length > 0);
  });

  test("every step of a response is recorded, so all its tokens count against the key", async () => {
    sim.scriptToolCalls([{ name: "laptop__echo", arguments: { text: "counted" } }]);
    const { data: response, response: raw } = await client.responses
      .create({ model: "m", input: "say it back", tools: [{ type: "mcp", server_label: "laptop", require_approval: "never" }] })
      .withResponse();
    const requestId = raw.headers.get("x-request-id") as string;
    const rows = await waitFor("both steps in the audit log", () => {
      const db = new Database(join(gw.dataDir, "flotilla.db"), { readonly: true });
      try {
        const found = db.prepare("select id, tokens_in, tokens_out from requests where id = ? or id like ? order by id").all(requestId, `${requestId}.%`) as Array<{ id: string; tokens_in: number; tokens_out: number }>;
        return found.length === 2 && found;
      } finally {
        db.close();
      }
    });
    assert.deepEqual(rows.map((r) => r.id), [requestId, `${requestId}.1`]);
    const recorded = rows.reduce((sum, r) => sum + r.tokens_in + r.tokens_out, 0);
    assert.equal(recorded, (response.usage?.input_tokens ?? 0) + (response.usage?.output_tokens ?? 0));
  });

  test("a call of the client's own function ends the response; its output continues it", async () => {
    sim.scriptToolCalls([{ name: "get_weather", arguments: { city: "Oslo" } }]);
    const tools = [{ type: "function" as const, name: "get_weather", description: "Weather now", parameters: { type: "object", properties: { city: { type: "string" } } }, strict: false }];
    const asked = await client.responses.create({ model: "m", input: "weather in Oslo?", tools });
    assert.equal(asked.output.length, 1);
    const call = asked.output[0] as { type: string; name: string; arguments: string; call_id: string; status: string };
    assert.deepEqual([call.type, call.name, JSON.parse(call.arguments), call.status], ["function_call", "get_weather", { city: "Oslo" }, "completed"]);

    const answered = await client.responses.create({ model: "m", previous_response_id: asked.id, input: [{ type: "function_call_output", call_id: call.call_id, output: "sunny" }], tools });
    assert.equal(answered.status, "completed");
    const messages = lastChat().messages;
    assert.equal(messages.find((m) => m.tool_calls)?.tool_calls?.[0].id, call.call_id);
    assert.deepEqual(messages.at(-1), { role: "tool", tool_call_id: call.call_id, content: "sunny" });
  });

  test("streamed: OpenAI's events in order, numbered, and the SDK's stream helper gathers the same response", async () => {
    const stream = await client.responses.create({ model: "m", input: "stream it", stream: true });
    const types: string[] = [];
    const numbers: number[] = [];
    const deltas: string[] = [];
    for await (const event of stream) {
      types.push(event.type);
      numbers.push(event.sequence_number);
      if (event.type === "response.output_text.delta") deltas.push(event.delta);
    }
    assert.deepEqual(numbers, types.map((_, i) => i));
    assert.ok(deltas.length > 1, `the text streams as the model writes it (${deltas.length} deltas)`);
    assert.equal(deltas.join(""), "The quick brown fox jumps over lazy dogs.");
    assert.deepEqual(types.filter((t, i) => t !== types[i - 1]), [
      "response.created",
      "response.in_progress",
      "response.output_item.added",
      "response.content_part.added",
      "response.output_text.delta",
      "response.output_text.done",
      "response.content_part.done",
      "response.output_item.done",
      "response.completed",
    ]);

    sim.scriptToolCalls([{ name: "laptop__echo", arguments: { text: "streamed" } }]);
    const helper = client.responses.stream({ model: "m", input: "use the tool", tools: [{ type: "mcp", server_label: "flotilla", allowed_tools: ["echo"], require_approval: "never" }] });
    const final = await helper.finalResponse();
    assert.deepEqual(final.output.map((o) => o.type), ["mcp_list_tools", "mcp_call", "message"]);
    assert.equal((final.output[1] as { output: string }).output, "echo: streamed");
    assert.equal((await client.responses.retrieve(final.id)).status, "completed", "a streamed response is stored too");
  });

  test("a response that ends is a response.completed event for its owner's webhooks", async () => {
    const receiver = await startReceiver();
    const events = () => receiver.received.map((r) => JSON.parse(r.body) as { type: string; data: { id: string } });
    try {
      assert.equal((await gw.admin("/v1/webhooks", { method: "POST", body: JSON.stringify({ url: receiver.url, events: ["response.completed"] }) })).status, 201);
      const response = await client.responses.create({ model: "m", input: "tell the hook" });
      await waitFor("the response.completed event", () => events().some((e) => e.data.id === response.id));
      assert.equal(events().find((e) => e.data.id === response.id)?.type, "response.completed");
    } finally {
      await receiver.close();
    }
  });

  test("the OpenAI Agents SDK runs an agent with a function tool through the gateway, plain and streamed", async () => {
    // Its tracing would post to api.openai.com, whatever the base URL.
    setTracingDisabled(true);
    const runner = new Runner({ modelProvider: new OpenAIProvider({ apiKey: ADMIN_KEY, baseURL: `${gw.url}/v1`, useResponses: true }) });
    const asked: string[] = [];
    const weather = tool({ name: "get_weather", description: "Weather now", parameters: z.object({ city: z.string() }), execute: async ({ city }) => (asked.push(city), `sunny in ${city}`) });
    const agent = new Agent({ name: "forecaster", model: "m", instructions: "Answer about the weather.", tools: [weather] });

    sim.scriptToolCalls([{ name: "get_weather", arguments: { city: "Oslo" } }]);
    const result = await runner.run(agent, "weather in Oslo?");
    assert.equal(result.finalOutput, "The quick brown fox jumps over lazy dogs.");
    assert.deepEqual(asked, ["Oslo"]);
    assert.deepEqual(lastChat().messages.at(-1), { role: "tool", tool_call_id: lastChat().messages.at(-2)?.tool_calls?.[0].id, content: "sunny in Oslo" }, "the SDK ran the tool and sent its output back");

    sim.scriptToolCalls([{ name: "get_weather", arguments: { city: "Bergen" } }]);
    const streamed = await runner.run(agent, "weather in Bergen?", { stream: true });
    for await (const event of streamed) assert.ok(event.type);
    await streamed.completed;
    assert.equal(streamed.finalOutput, "The quick brown fox jumps over lazy dogs.");
    assert.deepEqual(asked, ["Oslo", "Bergen"]);
  });

  test("with the open proxy, a caller without a key continues its responses too", async () => {
    const open = await startFlotilla({ servers: [`${sim.url},openai`], args: ["--auth-proxy", "open"] });
    try {
      const anonymous = new OpenAI({ baseURL: `${open.url}/v1`, apiKey: "none", maxRetries: 0, defaultHeaders: { authorization: null } });
      const first = await anonymous.responses.create({ model: "m", input: "hello" });
      const second = await anonymous.responses.create({ model: "m", input: "again", previous_response_id: first.id });
      assert.equal(second.status, "completed");
      assert.equal(lastChat().messages.length, 3);
    } finally {
      await open.stop();
    }
  });

  test("refusals: an unknown model, background not stored, an MCP server named by URL, another caller's response", async () => {
    await assert.rejects(client.responses.create({ model: "nope", input: "x" }), (err: Error) => err instanceof OpenAI.NotFoundError);
    await assert.rejects(client.responses.create({ model: "m", input: "x", background: true, store: false }), (err: { status?: number }) => err.status === 400);
    await assert.rejects(client.responses.create({ model: "m", input: "x", tools: [{ type: "mcp", server_label: "x", server_url: "http://169.254.169.254/", require_approval: "never" }] }), (err: { status?: number }) => err.status === 400);
    const mine = await client.responses.create({ model: "m", input: "private" });
    const { user } = (await (await gw.admin("/api/users", { method: "POST", body: JSON.stringify({ username: "someone", password: "a long enough password" }) })).json()) as { user: { id: string } };
    const key = ((await (await gw.admin(`/api/users/${user.id}/api-key`, { method: "POST", body: "{}" })).json()) as { key: string }).key;
    const other = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: key, maxRetries: 0 });
    await assert.rejects(other.responses.retrieve(mine.id), (err: Error) => err instanceof OpenAI.NotFoundError);
    await assert.rejects(other.responses.create({ model: "m", input: "x", previous_response_id: mine.id }), (err: Error) => err instanceof OpenAI.NotFoundError);
  });
});

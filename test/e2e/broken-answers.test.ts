import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import Database from "better-sqlite3";
import { Ollama } from "ollama";
import OpenAI from "openai";
import { startSim, type SimServer } from "../sim/index.js";
import { ADMIN_KEY, startFlotilla, type Flotilla } from "./harness.js";

/**
 * A translated answer that the server breaks (a line of garbage, a stream
 * that stops before its last chunk, a body that is no answer) reaches the
 * official clients as an error they throw, never as a normal-looking end.
 */
describe("answers a server breaks, translated for a client of the other API", () => {
  const messages = [{ role: "user" as const, content: "hi" }];
  let ollamaServer: SimServer;
  let openaiServer: SimServer;
  let gw: Flotilla;
  let openai: OpenAI;
  let ollama: Ollama;
  const dataDir = mkdtempSync(join(tmpdir(), "flotilla-broken-"));

  before(async () => {
    ollamaServer = await startSim({ kind: "ollama", models: ["llama:latest"] });
    openaiServer = await startSim({ kind: "openai", models: ["gpt"] });
    gw = await startFlotilla({ dataDir, servers: [`${ollamaServer.url},ollama`, `${openaiServer.url},openai`] });
    openai = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: ADMIN_KEY, maxRetries: 0 });
    ollama = new Ollama({ host: gw.url, headers: { authorization: `Bearer ${ADMIN_KEY}` } });
  });
  after(async () => {
    await gw?.stop();
    await ollamaServer?.close();
    await openaiServer?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** Reads an OpenAI stream until it throws; returns the text that came first and the error. */
  async function openAIStream(): Promise<{ text: string; error: unknown }> {
    let text = "";
    try {
      for await (const chunk of await openai.chat.completions.create({ model: "llama", messages, stream: true })) text += chunk.choices[0]?.delta?.content ?? "";
    } catch (error) {
      return { text, error };
    }
    return { text, error: undefined };
  }

  async function ollamaStream(): Promise<{ text: string; error: unknown }> {
    let text = "";
    try {
      for await (const part of await ollama.chat({ model: "gpt", messages, stream: true })) text += part.message.content;
    } catch (error) {
      return { text, error };
    }
    return { text, error: undefined };
  }

  const serverName = (sim: SimServer) => new URL(sim.url).host;

  test("an OpenAI client streaming from an Ollama server that sends a line of garbage gets an APIError naming the server", async () => {
    ollamaServer.fail({ path: "/api/chat", garbageAfterChunks: 2, times: 1 });
    const { text, error } = await openAIStream();
    assert.equal(text, "The quick", "what came before the garbage reached the client");
    assert.ok(error instanceof OpenAI.APIError, `an APIError, not ${String(error)}`);
    assert.equal(error.message, `server ${serverName(ollamaServer)} sent a line that is not JSON: <html><body>502 Bad Gateway</body></html>`);
  });

  test("an OpenAI client streaming from an Ollama server that stops before its done line gets an APIError, not finish_reason stop", async () => {
    ollamaServer.fail({ path: "/api/chat", endAfterChunks: 3, times: 1 });
    const { text, error } = await openAIStream();
    assert.equal(text, "The quick brown");
    assert.ok(error instanceof OpenAI.APIError, `an APIError, not ${String(error)}`);
    assert.equal(error.message, `server ${serverName(ollamaServer)} ended the stream before its last chunk`);
  });

  test("an Ollama client streaming from an OpenAI server that sends an event of garbage throws, naming the server", async () => {
    openaiServer.fail({ path: "/v1/chat/completions", garbageAfterChunks: 2, times: 1 });
    const { error } = await ollamaStream();
    assert.ok(error instanceof Error);
    assert.equal(error.message, `server ${serverName(openaiServer)} sent an event that is not JSON: <html><body>502 Bad Gateway</body></html>`);
  });

  test("an Ollama client streaming from an OpenAI server that stops before finish_reason and [DONE] throws, not done: true", async () => {
    openaiServer.fail({ path: "/v1/chat/completions", endAfterChunks: 3, times: 1 });
    const { text, error } = await ollamaStream();
    assert.ok(text.length > 0, "what came before the end reached the client");
    assert.ok(error instanceof Error);
    assert.equal(error.message, `server ${serverName(openaiServer)} ended the stream before its last chunk`);
  });

  test("whole answers cut short or of the wrong shape are a 502 in the client's API, not an empty answer", async () => {
    ollamaServer.fail({ path: "/api/chat", endAfterChunks: 0, times: 1 });
    await assert.rejects(openai.chat.completions.create({ model: "llama", messages }), (err: unknown) => {
      assert.ok(err instanceof OpenAI.APIError);
      assert.equal(err.status, 502);
      assert.match(err.message, new RegExp(`^502 server ${serverName(ollamaServer)} sent a response body that is not JSON: \\{"model":"llama`));
      return true;
    });
    openaiServer.fail({ path: "/v1/chat/completions", status: 200, body: { object: "list", data: [] }, times: 1 });
    await assert.rejects(ollama.chat({ model: "gpt", messages, stream: false }), {
      status_code: 502,
      error: `server ${serverName(openaiServer)} sent a response body that is not an OpenAI completion: {"object":"list","data":[]}`,
    });
  });

  test("a stream between the same APIs passes through untouched, garbage and all", async () => {
    ollamaServer.fail({ path: "/api/chat", garbageAfterChunks: 1, times: 1 });
    const res = await gw.admin("/api/chat", { method: "POST", body: JSON.stringify({ model: "llama", messages }) });
    const lines = (await res.text()).trim().split("\n");
    assert.equal(lines[1], "<html><body>502 Bad Gateway</body></html>");
    assert.equal((JSON.parse(lines.at(-1) as string) as { done: boolean }).done, true);
  });

  test("the audit log records each broken translated answer as failed, with what was wrong", async () => {
    assert.equal(await gw.stop(), 0);
    const db = new Database(join(dataDir, "flotilla.db"), { readonly: true });
    const rows = db.prepare("select path, status, error from requests order by time").all() as Array<{ path: string; status: number; error: string | null }>;
    db.close();
    const failed = rows.filter((r) => r.status === 502).map((r) => r.error);
    assert.equal(failed.length, 6, JSON.stringify(rows));
    assert.ok(failed.every((e) => /^server \S+ (sent|ended)/.test(e ?? "")), JSON.stringify(failed));
    assert.deepEqual(rows.filter((r) => r.status !== 502).map((r) => [r.path, r.status, r.error]), [["/api/chat", 200, null]], "the pass-through stream is not judged");
  });
});

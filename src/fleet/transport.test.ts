import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { test } from "node:test";
import { HttpTransport } from "./transport.js";

test("a server under a base path gets every path prefixed with it, trailing slash or not", async (t) => {
  const seen: string[] = [];
  const server = createServer((req, res) => {
    seen.push(req.url ?? "");
    res.end("{}");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  t.after(() => server.close());
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  for (const url of [origin, `${origin}/`, `${origin}/ollama`, `${origin}/ollama/`, `${origin}/a/b`]) {
    const transport = new HttpTransport(url);
    const res = await transport.request({ method: "GET", path: "/api/tags?x=1", headers: {}, timeoutMs: 2000 });
    await res.body.dump();
    await transport.close();
  }
  assert.deepEqual(seen, ["/api/tags?x=1", "/api/tags?x=1", "/ollama/api/tags?x=1", "/ollama/api/tags?x=1", "/a/b/api/tags?x=1"]);
});

/**
 * The floor: the least a Node proxy can do (node:http in, undici out, no
 * routing, auth, validation or records). The benchmark runs it beside
 * Flotilla so "added latency" can be read against what any Node hop costs.
 *   node dist/bench/bare-proxy.js UPSTREAM_URL  → prints {"url"} when listening
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { Pool } from "undici";

const upstream = new Pool(process.argv[2], { connections: 128 });
const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on("data", (c: Buffer) => chunks.push(c));
  req.on("end", async () => {
    const body = Buffer.concat(chunks);
    JSON.parse(body.toString("utf8"));
    const answer = await upstream.request({ path: req.url ?? "/", method: "POST", headers: { "content-type": "application/json" }, body });
    res.writeHead(answer.statusCode, { "content-type": String(answer.headers["content-type"]) });
    for await (const chunk of answer.body) res.write(chunk);
    res.end();
  });
});
server.listen(0, "127.0.0.1", () => {
  process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` })}\n`);
});
process.once("SIGTERM", () => process.exit(0));

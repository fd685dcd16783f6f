import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { after, before, describe, test } from "node:test";
import { OutboundGuard } from "./outbound.js";

/** A loopback server that records every request it is sent and answers with `handle`. */
async function receiver(handle: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => res.end("ok")) {
  const received: string[] = [];
  const server = createServer((req, res) => {
    received.push(`${req.method} ${req.url}`);
    handle(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

const guard = (allow: string[] = [], allowPrivate = false) => new OutboundGuard({ allowPrivate, allow });

describe("the outbound guard: user-given URLs do not reach inside", () => {
  let inside: Awaited<ReturnType<typeof receiver>>;
  const guards: OutboundGuard[] = [];
  const made = (allow: string[] = [], allowPrivate = false) => {
    const g = guard(allow, allowPrivate);
    guards.push(g);
    return g;
  };
  before(async () => {
    inside = await receiver();
  });
  after(async () => {
    await Promise.all(guards.map((g) => g.close()));
    await inside.close();
  });

  test("a URL at a loopback address, by address, by name or in IPv4-mapped IPv6 form, is refused when given, saying why", async () => {
    const g = made();
    assert.match((await g.urlProblem(`http://127.0.0.1:${inside.port}/x`)) ?? "", /^127\.0\.0\.1 is a loopback address \(outbound\.allow/);
    assert.match((await g.urlProblem(`http://localhost:${inside.port}/x`)) ?? "", /^localhost resolves to 127\.0\.0\.1, a loopback address/);
    assert.match((await g.urlProblem(`http://[::ffff:127.0.0.1]:${inside.port}/x`)) ?? "", /carries 127\.0\.0\.1, a loopback address/);
    assert.match((await g.urlProblem("http://0x7f.1/")) ?? "", /127\.0\.0\.1 is a loopback/, "the URL parser's reading of a host is the one judged");
    assert.match((await g.urlProblem("http://169.254.169.254/latest/meta-data/")) ?? "", /link-local/);
    assert.match((await g.urlProblem("http://[::1]/")) ?? "", /loopback/);
    assert.match((await g.urlProblem("http://user:pw@example.com/")) ?? "", /user name or password/);
    assert.match((await g.urlProblem("file:///etc/passwd")) ?? "", /not an http or https URL/);
    assert.match((await g.urlProblem("not a url")) ?? "", /not a URL/);
    assert.match((await g.urlProblem("http://no-such-host.invalid/")) ?? "", /does not resolve/);
  });

  test("an operator's allow list (name, address or CIDR) or allow_private lets exactly those through", async () => {
    const url = `http://127.0.0.1:${inside.port}/x`;
    assert.equal(await made(["127.0.0.1"]).urlProblem(url), undefined);
    assert.equal(await made(["127.0.0.0/8"]).urlProblem(`http://localhost:${inside.port}/x`), undefined);
    assert.equal(await made(["localhost"]).urlProblem(`http://localhost:${inside.port}/x`), undefined);
    assert.equal(await made([], true).urlProblem(url), undefined);
    assert.ok(await made(["127.0.0.2", "10.0.0.0/8"]).urlProblem(url));
    assert.match((await made([], true).urlProblem("http://u:p@127.0.0.1/")) ?? "", /user name or password/, "allowing addresses does not allow credentials");
  });

  test("a fetch is refused at the connection, for an IP literal and for a name, and the receiver hears nothing", async () => {
    const g = made();
    for (const host of ["127.0.0.1", "localhost", "[::ffff:127.0.0.1]", "[::ffff:7f00:1]"]) {
      await assert.rejects(g.fetch(`http://${host}:${inside.port}/x`, { method: "POST", body: "{}" }, { timeoutMs: 2000 }), /refused: .*loopback/, host);
    }
    assert.deepEqual(inside.received, []);
    const allowed = await made(["127.0.0.1"]).fetch(`http://127.0.0.1:${inside.port}/x`, { method: "POST", body: "{}" }, { timeoutMs: 2000, maxBytes: 100 });
    assert.deepEqual([allowed.status, Buffer.from(allowed.body).toString()], [200, "ok"]);
    assert.deepEqual(inside.received, ["POST /x"]);
    inside.received.length = 0;
  });

  test("a redirect is not followed unless asked; when followed, each hop is checked, so an allowed host cannot send the fetch inside", async () => {
    const target = await receiver();
    const redirector = await receiver((req, res) => {
      const to = req.url === "/inside" ? `http://127.0.0.1:${target.port}/secret` : "/elsewhere";
      res.writeHead(302, { location: to }).end();
    });
    try {
      // The first hop is allowed by name; the address it redirects to is not.
      const g = made(["localhost"]);
      const first = `http://localhost:${redirector.port}/inside`;
      const unfollowed = await g.fetch(first, {}, { timeoutMs: 2000 });
      assert.equal(unfollowed.status, 302, "without maxRedirects a redirect is the answer");
      await assert.rejects(g.fetch(first, {}, { timeoutMs: 2000, maxRedirects: 3, maxBytes: 1000 }), /refused: 127\.0\.0\.1 is a loopback/);
      await assert.rejects(g.fetch(`http://localhost:${redirector.port}/loop`, {}, { timeoutMs: 2000, maxRedirects: 2, maxBytes: 1000 }), /more than 2 redirects/);
      assert.equal(redirector.received.length, 5);
      assert.deepEqual(target.received, []);
    } finally {
      await Promise.all([target.close(), redirector.close()]);
    }
  });

  test("an answer is bounded in size and in time", async () => {
    const big = await receiver((_req, res) => res.end("x".repeat(10_000)));
    const chunked = await receiver((_req, res) => {
      res.write("x".repeat(600));
      res.end("x".repeat(600));
    });
    const silent = await receiver(() => undefined);
    try {
      const g = made(["127.0.0.1"]);
      await assert.rejects(g.fetch(`http://127.0.0.1:${big.port}/`, {}, { timeoutMs: 2000, maxBytes: 1000 }), /larger than 1000 bytes/);
      await assert.rejects(g.fetch(`http://127.0.0.1:${chunked.port}/`, {}, { timeoutMs: 2000, maxBytes: 1000 }), /larger than 1000 bytes/);
      assert.equal((await g.fetch(`http://127.0.0.1:${big.port}/`, {}, { timeoutMs: 2000 })).status, 200, "an unwanted body is dropped, however large");
      const started = Date.now();
      await assert.rejects(g.fetch(`http://127.0.0.1:${silent.port}/`, {}, { timeoutMs: 300 }), /no answer within 300 ms/);
      assert.ok(Date.now() - started < 2000);
    } finally {
      await Promise.all([big.close(), chunked.close(), silent.close()]);
    }
  });
});

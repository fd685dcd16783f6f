import assert from "node:assert/strict";
import { test } from "node:test";
import { defaultAllowedHosts, RequestOrigins } from "./request-origin.js";

test("a request from a page on another origin is refused; the gateway's own pages, listed origins and non-browsers are not", () => {
  const origins = new RequestOrigins(["https://chat.example.com"], undefined);
  assert.equal(origins.problem({ host: "gw:8080" }), undefined, "no Origin: not a browser");
  assert.equal(origins.problem({ host: "gw:8080", origin: "http://gw:8080" }), undefined);
  assert.equal(origins.problem({ host: "GW:8080", origin: "http://gw:8080" }), undefined);
  assert.equal(origins.problem({ host: "gw:8080", origin: "https://chat.example.com" }), undefined);
  for (const origin of ["https://evil.example", "http://gw:9090", "null", "not a url"]) {
    const refused = origins.problem({ host: "gw:8080", origin });
    assert.equal(refused?.status, 403, origin);
    assert.match(refused?.message ?? "", /requests from pages on another origin .* are refused; auth\.allowed_origins/);
  }
});

test("a gateway on loopback answers only loopback names, so a re-pointed name (DNS rebinding) never reaches it", () => {
  assert.deepEqual(defaultAllowedHosts("127.0.0.1"), ["localhost", "127.0.0.1", "[::1]"]);
  assert.deepEqual(defaultAllowedHosts("::1"), ["localhost", "127.0.0.1", "[::1]"]);
  assert.equal(defaultAllowedHosts("0.0.0.0"), undefined);
  const local = new RequestOrigins([], defaultAllowedHosts("127.0.0.1"));
  for (const host of ["localhost:8080", "127.0.0.1:8080", "127.0.0.2", "[::1]:8080", "LOCALHOST"]) assert.equal(local.problem({ host }), undefined, host);
  const rebound = local.problem({ host: "evil.example:8080", origin: "http://evil.example:8080" });
  assert.equal(rebound?.status, 403);
  assert.match(rebound?.message ?? "", /answers only requests addressed to localhost, 127\.0\.0\.1, \[::1\], not to "evil\.example:8080" \(allowed_hosts\)/);
  const named = new RequestOrigins([], ["gw.internal"]);
  assert.equal(named.problem({ host: "gw.internal:8080" }), undefined);
  assert.equal(named.problem({ host: "127.0.0.1:8080" })?.status, 403, "only the names given");
});

import assert from "node:assert/strict";
import { test } from "node:test";
import { guardedLookup, internalAddressProblem } from "./target.js";

test("internal addresses are named, public ones pass, IPv4-mapped IPv6 is judged as its IPv4", () => {
  for (const address of ["127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "100.64.0.1", "0.0.0.0", "::1", "::", "fd00::1", "fe80::1", "::ffff:127.0.0.1", "224.0.0.1"]) {
    assert.ok(internalAddressProblem(address), `${address} is internal`);
  }
  for (const address of ["8.8.8.8", "1.1.1.1", "172.32.0.1", "2001:4860:4860::8888", "::ffff:8.8.8.8"]) {
    assert.equal(internalAddressProblem(address), undefined, `${address} is public`);
  }
});

test("the delivery lookup refuses a name that resolves inside, unless allowed", async () => {
  const resolve = (allow: boolean) =>
    new Promise<{ err: NodeJS.ErrnoException | null; address: unknown }>((done) => guardedLookup(allow)("localhost", { family: 4 }, (err, address) => done({ err, address })));
  const refused = await resolve(false);
  assert.equal(refused.err?.code, "EWEBHOOKTARGET");
  const allowed = await resolve(true);
  assert.equal(allowed.err, null);
  assert.equal(allowed.address, "127.0.0.1");
});

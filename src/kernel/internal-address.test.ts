import assert from "node:assert/strict";
import { networkInterfaces } from "node:os";
import { test } from "node:test";
import { internalAddressKind } from "./internal-address.js";
import { OutboundAllowList, outboundAllowProblem } from "./outbound-allow.js";

test("loopback, private, link-local, metadata, shared, reserved and multicast addresses are internal, each named", () => {
  const expected: Record<string, RegExp> = {
    "127.0.0.1": /loopback/,
    "127.255.0.9": /loopback/,
    "0.0.0.0": /this network/,
    "10.1.2.3": /private/,
    "172.16.0.1": /private/,
    "172.31.255.255": /private/,
    "192.168.1.1": /private/,
    "169.254.169.254": /link-local.*metadata/,
    "100.64.0.1": /carrier-grade NAT/,
    "192.0.0.8": /reserved/,
    "198.18.0.1": /benchmarking/,
    "224.0.0.1": /multicast/,
    "255.255.255.255": /reserved/,
    "::": /unspecified/,
    "::1": /loopback/,
    "fd00::1": /unique local/,
    "fc00::1": /unique local/,
    "fe80::1": /link-local/,
    "fe80::1%eth0": /link-local/,
    "ff02::1": /multicast/,
  };
  for (const [address, kind] of Object.entries(expected)) assert.match(internalAddressKind(address) ?? "", kind, address);
});

test("an IPv6 form that carries an internal IPv4 address is judged by it", () => {
  for (const address of ["::ffff:127.0.0.1", "::ffff:7f00:1", "::FFFF:7F00:0001", "::ffff:a9fe:a9fe", "::ffff:0:7f00:1", "::127.0.0.1", "64:ff9b::7f00:1", "64:ff9b::10.0.0.1", "2002:7f00:1::1", "2002:a9fe:a9fe::"]) {
    assert.match(internalAddressKind(address) ?? "", /carries (127|10|169\.254)\./, address);
  }
  assert.match(internalAddressKind("::ffff:7f00:1") ?? "", /carries 127\.0\.0\.1, a loopback address/);
});

test("public addresses, in either family or carried, may be reached", () => {
  for (const address of ["8.8.8.8", "1.1.1.1", "172.32.0.1", "100.128.0.1", "169.255.0.1", "2001:4860:4860::8888", "::ffff:8.8.8.8", "::ffff:808:808", "64:ff9b::8.8.8.8", "2002:808:808::1"]) {
    assert.equal(internalAddressKind(address), undefined, address);
  }
});

test("an allow list takes host names, addresses and CIDRs, and matches an IPv6 form by the IPv4 it carries", () => {
  for (const entry of ["127.0.0.1", "10.1.0.0/16", "fd00::/8", "[::1]", "hooks.internal", "localhost", "my_host.lan."]) assert.equal(outboundAllowProblem(entry), undefined, entry);
  for (const entry of ["10.0.0.0/33", "10.0.0.0/x", "hooks/8", "10.0.0.0/8/1", "http://x", "a b", ""]) assert.ok(outboundAllowProblem(entry), entry);
  const allow = new OutboundAllowList(["127.0.0.1", "10.1.0.0/16", "Hooks.Internal"]);
  assert.ok(allow.allowsAddress("127.0.0.1"));
  assert.ok(allow.allowsAddress("::ffff:7f00:1"));
  assert.ok(allow.allowsAddress("10.1.200.3"));
  assert.ok(!allow.allowsAddress("127.0.0.2"));
  assert.ok(!allow.allowsAddress("10.2.0.1"));
  assert.ok(allow.allowsHost("hooks.internal"));
  assert.ok(allow.allowsHost("hooks.internal."));
  assert.ok(!allow.allowsHost("other.internal"));
  assert.throws(() => new OutboundAllowList(["10.0.0.0/99"]), /not a CIDR/);
});

test("an address of the gateway's own machine is internal, whatever its range (a public interface reaches the gateway too)", () => {
  const addresses = Object.values(networkInterfaces()).flatMap((list) => (list ?? []).map((i) => i.address));
  for (const address of addresses) assert.notEqual(internalAddressKind(address), undefined, address);
});

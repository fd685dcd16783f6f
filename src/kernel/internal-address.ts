import { BlockList, isIP } from "node:net";
import { networkInterfaces } from "node:os";

/**
 * Addresses a user-given URL may not make the gateway reach: its own machine,
 * its private network, link-local (where clouds serve instance metadata), and
 * ranges that are not meant to be reached at all. Each kind is named, so a
 * refusal can say why.
 */
const RANGES: Array<[kind: string, family: "ipv4" | "ipv6", net: string, prefix: number]> = [
  ['a "this network" address', "ipv4", "0.0.0.0", 8],
  ["a private address", "ipv4", "10.0.0.0", 8],
  ["a shared (carrier-grade NAT) address", "ipv4", "100.64.0.0", 10],
  ["a loopback address", "ipv4", "127.0.0.0", 8],
  ["a link-local address (cloud metadata is served there)", "ipv4", "169.254.0.0", 16],
  ["a private address", "ipv4", "172.16.0.0", 12],
  ["a reserved address", "ipv4", "192.0.0.0", 24],
  ["a private address", "ipv4", "192.168.0.0", 16],
  ["a benchmarking address", "ipv4", "198.18.0.0", 15],
  ["a multicast address", "ipv4", "224.0.0.0", 4],
  ["a reserved address", "ipv4", "240.0.0.0", 4],
  ["the unspecified address", "ipv6", "::", 128],
  ["a loopback address", "ipv6", "::1", 128],
  ["a discard-only address", "ipv6", "100::", 64],
  ["a local-use NAT64 address", "ipv6", "64:ff9b:1::", 48],
  ["a unique local (private) address", "ipv6", "fc00::", 7],
  ["a link-local address", "ipv6", "fe80::", 10],
  ["a site-local address", "ipv6", "fec0::", 10],
  ["a multicast address", "ipv6", "ff00::", 8],
];

// One list per family: Node's BlockList would match an IPv4-mapped address against IPv4 rules, which is right but names the wrong form.
const BY_FAMILY = { ipv4: new Map<string, BlockList>(), ipv6: new Map<string, BlockList>() };
for (const [kind, family, net, prefix] of RANGES) {
  const list = BY_FAMILY[family].get(kind) ?? new BlockList();
  list.addSubnet(net, prefix, family);
  BY_FAMILY[family].set(kind, list);
}

function kindOf(address: string, family: "ipv4" | "ipv6"): string | undefined {
  for (const [kind, list] of BY_FAMILY[family]) if (list.check(address, family)) return kind;
  return undefined;
}

/**
 * What kind of internal address `address` is, or undefined for one that may
 * be reached. IPv6 forms that carry an IPv4 address (mapped, translated,
 * compatible, NAT64 64:ff9b::/96, 6to4 2002::/16) are judged by the IPv4 they
 * carry as well, so `::ffff:7f00:1` is loopback.
 */
export function internalAddressKind(address: string): string | undefined {
  const ip = withoutZone(address);
  const family = isIP(ip);
  if (family === 0) return "not an IP address";
  return rangeKind(ip, family) ?? (ownAddresses().has(ip.toLowerCase()) ? "an address of the gateway's own machine" : undefined);
}

function rangeKind(ip: string, family: number): string | undefined {
  if (family === 4) return kindOf(ip, "ipv4");
  const own = kindOf(ip, "ipv6");
  if (own) return own;
  const carried = carriedIPv4(ip);
  const kind = carried === undefined ? undefined : kindOf(carried, "ipv4");
  return kind && `an address that carries ${carried}, ${kind}`;
}

/** `address` and, for an IPv6 form that carries one, its IPv4: what an allow list is matched against. */
export function addressForms(address: string): Array<{ ip: string; family: "ipv4" | "ipv6" }> {
  const ip = withoutZone(address);
  const family = isIP(ip);
  if (family === 4) return [{ ip, family: "ipv4" }];
  if (family === 0) return [];
  const carried = carriedIPv4(ip);
  return carried === undefined ? [{ ip, family: "ipv6" }] : [{ ip, family: "ipv6" }, { ip: carried, family: "ipv4" }];
}

const OWN_ADDRESSES_TTL_MS = 10_000;
let own: { at: number; addresses: Set<string> } | undefined;

/** The addresses of this machine's interfaces (a public one too reaches the gateway itself), re-read now and then. */
function ownAddresses(): Set<string> {
  const now = Date.now();
  if (!own || now - own.at > OWN_ADDRESSES_TTL_MS) {
    const addresses = Object.values(networkInterfaces()).flatMap((list) => (list ?? []).map((i) => withoutZone(i.address).toLowerCase()));
    own = { at: now, addresses: new Set(addresses) };
  }
  return own.addresses;
}

function withoutZone(address: string): string {
  return address.replace(/^\[|\]$/g, "").replace(/%.*$/, "");
}

/** The IPv4 address an IPv6 address carries, if it is of a form that carries one. */
function carriedIPv4(ip: string): string | undefined {
  const w = ipv6Words(ip);
  const zeros = (from: number, to: number) => w.slice(from, to).every((x) => x === 0);
  const v4 = (hi: number, lo: number) => `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
  if (zeros(0, 5) && (w[5] === 0xffff || w[5] === 0)) return v4(w[6], w[7]); // ::ffff:a.b.c.d, ::a.b.c.d
  if (zeros(0, 4) && w[4] === 0xffff && w[5] === 0) return v4(w[6], w[7]); // ::ffff:0:a.b.c.d (SIIT)
  if (w[0] === 0x64 && w[1] === 0xff9b && zeros(2, 6)) return v4(w[6], w[7]); // NAT64
  if (w[0] === 0x2002) return v4(w[1], w[2]); // 6to4
  return undefined;
}

/** The eight 16-bit words of a valid IPv6 address. */
function ipv6Words(ip: string): number[] {
  let text = ip;
  const tail: number[] = [];
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted.slice(1).map(Number);
    tail.push((a << 8) | b, (c << 8) | d);
    text = text.slice(0, dotted.index);
    if (text.endsWith(":") && !text.endsWith("::")) text = text.slice(0, -1);
  }
  const hex = (part: string) => (part ? part.split(":").map((h) => parseInt(h, 16)) : []);
  const [head, rest] = text.split("::");
  if (rest === undefined) return [...hex(head), ...tail];
  const before = hex(head);
  const after = hex(rest);
  return [...before, ...new Array<number>(8 - before.length - after.length - tail.length).fill(0), ...after, ...tail];
}

import { lookup, type LookupAddress } from "node:dns";
import { BlockList, isIP, type LookupFunction } from "node:net";
import { fetchUrlProblem } from "../config/index.js";

/**
 * Where a webhook may be delivered: not to loopback, private, link-local,
 * shared (CGNAT), unspecified or multicast addresses, unless the operator
 * allows it (`webhooks.allow_private`), so a user cannot make the gateway
 * reach inside its own network. Checked when a webhook is saved and on every
 * connection (the address a name resolves to then), so DNS cannot be swapped
 * in between.
 */
const INTERNAL = new BlockList();
for (const [net, prefix] of [
  ["0.0.0.0", 8],
  ["10.0.0.0", 8],
  ["100.64.0.0", 10],
  ["127.0.0.0", 8],
  ["169.254.0.0", 16],
  ["172.16.0.0", 12],
  ["192.0.0.0", 24],
  ["192.168.0.0", 16],
  ["198.18.0.0", 15],
  ["224.0.0.0", 4],
  ["240.0.0.0", 4],
] as const) {
  INTERNAL.addSubnet(net, prefix, "ipv4");
}
for (const [net, prefix] of [
  ["::", 128],
  ["::1", 128],
  ["fc00::", 7],
  ["fe80::", 10],
  ["ff00::", 8],
] as const) {
  INTERNAL.addSubnet(net, prefix, "ipv6");
}

/** Why `address` may not be reached, or undefined. IPv4-mapped IPv6 is judged as the IPv4 it carries. */
export function internalAddressProblem(address: string): string | undefined {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
  const ip = mapped ?? address;
  const family = isIP(ip);
  if (family === 0) return `${address} is not an IP address`;
  return INTERNAL.check(ip, family === 4 ? "ipv4" : "ipv6") ? `${address} is a loopback, private or otherwise internal address` : undefined;
}

/** Why a webhook URL is refused, or undefined; names are resolved now. */
export async function webhookUrlProblem(url: string, allowPrivate: boolean): Promise<string | undefined> {
  const notFetchable = fetchUrlProblem(url);
  if (notFetchable) return notFetchable;
  const parsed = new URL(url);
  if (parsed.username || parsed.password) return "a webhook URL may not carry a user name or password";
  if (allowPrivate) return undefined;
  const host = parsed.hostname.replace(/^\[|\]$/g, "");
  let addresses: LookupAddress[];
  try {
    addresses = isIP(host) ? [{ address: host, family: isIP(host) }] : await new Promise((resolve, reject) => lookup(host, { all: true }, (err, found) => (err ? reject(err) : resolve(found))));
  } catch (err) {
    return `${host} does not resolve: ${(err as Error).message}`;
  }
  for (const a of addresses) {
    const problem = internalAddressProblem(a.address);
    if (problem) return `${host}: ${problem} (webhooks.allow_private lets an operator allow it)`;
  }
  return undefined;
}

/** A DNS lookup for deliveries that fails on an internal address, unless allowed. */
export function guardedLookup(allowPrivate: boolean): LookupFunction {
  return (hostname, options, callback) => {
    lookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, "", 0);
      const list = addresses as LookupAddress[];
      const refused = allowPrivate ? undefined : list.map((a) => internalAddressProblem(a.address)).find(Boolean);
      if (refused) return callback(Object.assign(new Error(`refused: ${refused}`), { code: "EWEBHOOKTARGET" }), "", 0);
      if (options.all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, list);
      callback(null, list[0].address, list[0].family);
    });
  };
}

import { BlockList, isIP } from "node:net";
import { addressForms } from "./internal-address.js";

const HOST_NAME = /^[a-z0-9_-]+(\.[a-z0-9_-]+)*\.?$/i;

/** What is wrong with an allow-list entry (a host name, an address, or a CIDR such as 10.1.0.0/16), if anything. */
export function outboundAllowProblem(entry: string): string | undefined {
  const [net, prefix, extra] = entry.split("/");
  const ip = net.replace(/^\[|\]$/g, "");
  const family = isIP(ip);
  if (prefix === undefined) return family !== 0 || HOST_NAME.test(entry) ? undefined : `"${entry}" is not a host name, an address or a CIDR`;
  const bits = Number(prefix);
  if (family === 0 || extra !== undefined || !/^\d+$/.test(prefix) || bits > (family === 4 ? 32 : 128)) return `"${entry}" is not a CIDR (such as 10.1.0.0/16 or fd00::/8)`;
  return undefined;
}

const normalName = (host: string) => host.toLowerCase().replace(/\.$/, "");

/** Hosts an operator lets the gateway reach although they are internal: by name (whatever it resolves to), by address, or by CIDR. */
export class OutboundAllowList {
  private readonly names = new Set<string>();
  private readonly nets = new BlockList();

  constructor(entries: readonly string[]) {
    for (const entry of entries) {
      const problem = outboundAllowProblem(entry);
      if (problem) throw new Error(problem);
      const [net, prefix] = entry.split("/");
      const ip = net.replace(/^\[|\]$/g, "");
      const family = isIP(ip) === 4 ? "ipv4" : "ipv6";
      if (isIP(ip) === 0) this.names.add(normalName(entry));
      else if (prefix === undefined) this.nets.addAddress(ip, family);
      else this.nets.addSubnet(ip, Number(prefix), family);
    }
  }

  /** Whether `host` (a URL's host name, or an address) is allowed by name. */
  allowsHost(host: string): boolean {
    return this.names.has(normalName(host.replace(/^\[|\]$/g, "")));
  }

  /** Whether `address` (or the IPv4 address its IPv6 form carries) is allowed. */
  allowsAddress(address: string): boolean {
    return addressForms(address).some((form) => this.nets.check(form.ip, form.family));
  }
}

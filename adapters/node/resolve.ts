// Node's host name resolver: dns.lookup (getaddrinfo: /etc/hosts, nsswitch, then DNS), every
// address in the system's order. Deno's node:dns lookup is getaddrinfo too (deno/transport.ts
// uses this one).
import { promises as dns } from "node:dns";

export async function lookupAll(host: string): Promise<string[]> {
  const found = await dns.lookup(host, { all: true, verbatim: true });
  return found.map((a) => a.address);
}

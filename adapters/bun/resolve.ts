// Bun's host name resolver: Bun.dns.lookup with the "system" backend (getaddrinfo, so the
// hosts file and nsswitch apply as for other programs; Bun's default on Linux is c-ares).
export async function lookupAll(host: string): Promise<string[]> {
  const found = await Bun.dns.lookup(host, { backend: "system" });
  return found.map((a) => a.address);
}

// Chirp nodes for tests, in this process: started on a free port (port 0), and closed at the
// end of the test file if a failed test skipped its own close() (an open node keeps the
// process alive until the runner's timeout).
import { test } from "uvu";
import { Chirp, type ChirpConfig } from "../../adapters/index.ts";

const started = new Set<Chirp>();
test.after(async () => {
  await Promise.all([...started].map((n) => n.close()));
});

/** A node on a free port (IPv4 and, by default, IPv6). */
export async function node(cfg: ChirpConfig = {}): Promise<Chirp> {
  const n = await Chirp.start({ port: 0, ...cfg });
  started.add(n);
  return n;
}

/** A node on a free port, IPv4 only (bindV6: null), as the pattern tests run them. */
export const node4 = (cfg: ChirpConfig = {}): Promise<Chirp> => node({ bindV6: null, ...cfg });

/** The address of a node (or anything with a port) on 127.0.0.1. */
export const to = (n: { port: number }): string => `127.0.0.1:${n.port}`;

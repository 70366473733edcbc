// The program of one pool thread (local threads of pool/pool.ts, and those of a joined worker
// process, pool/join.ts): told by its parent which module to serve and which pool to join, it
// imports the module, starts a Chirp node and serves the module's functions (pool/serve.ts),
// and posts { ready: port }, then joins (posting { joined: true } once the pool took it; when
// the pool is not reachable yet it keeps trying, patterns/renew.ts). { stop: true } makes it leave the pool and close its node, then
// post { stopped: true }. A start-up failure is posted as { error } (the parent gives up on
// the thread instead of restarting it). The node keeps idle connections for an hour, so a
// closed connection to the pool means a dead peer, not an idle one (pool/pool.ts relies on it).
import { Chirp } from "../adapters/index.ts";
import { threadHost } from "../adapters/threads.ts";
import { serveTasks, type Tasks } from "./serve.ts";

/** What the parent posts first. */
export interface ThreadInit {
  module: string;
  join: string;
  slots: number;
  /** Tasks taken beyond `slots` (pool/serve.ts). */
  prefetch: number;
  synchronous: boolean;
  /** The IPv4 address to listen on (loopback for local threads), or null for the default. */
  bind: string | null;
}

const maybePort = threadHost().port();
if (!maybePort) throw new Error("pool/thread.ts runs only as a pool thread");
const port = maybePort;
let stop: (() => Promise<void>) | null = null;

port.onMessage((m) => {
  const msg = m as Partial<ThreadInit> & { stop?: boolean };
  if (msg.stop) {
    void (stop ?? (async () => {}))().finally(() => port.post({ stopped: true }));
    return;
  }
  void start(msg as ThreadInit).catch((e) => port.post({ error: e instanceof Error ? e.message : String(e) }));
});

async function start(init: ThreadInit): Promise<void> {
  const tasks = (await import(init.module)) as Tasks;
  const node = await Chirp.start({
    port: 0,
    synchronous: init.synchronous,
    reuseTime: 3600,
    ...(init.bind ? { bindV4: init.bind, bindV6: null } : {}),
  });
  const w = serveTasks(node, tasks, { slots: init.slots, prefetch: init.prefetch });
  stop = async () => {
    await w.close();
    await node.close();
  };
  port.post({ ready: node.port });
  await w.join(init.join).then(() => port.post({ joined: true }), () => {});
}

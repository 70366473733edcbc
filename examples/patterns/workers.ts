// Push/pull with workers that join: the pusher lists none, workers announce themselves (and
// again when the pusher restarts) and can leave. An item pushed before any worker joined
// waits for one.
import { Chirp } from "chirp-wasm";
import { pusher, worker } from "chirp-wasm/patterns";

const node = await Chirp.start({ port: 0 });
const push = pusher(node); // no `workers`: items wait up to waitForWorkers (2 × timeout)
const at = `127.0.0.1:${node.port}`;
const early = push.push("2");

const nodes = await Promise.all([1, 2].map(() => Chirp.start({ port: 0 })));
// worker(node, fn, { join: at }) joins in the background; join() resolves once the pusher took it.
const workers = nodes.map((n) => worker(n, (item) => String(Number(item.text()) ** 2)));
await Promise.all(workers.map((w) => w.join(at)));
console.log(`${push.workers.length} workers joined; the early item: ${new TextDecoder().decode((await early).data)}`);

const results = await Promise.all([3, 4, 5].map((n) => push.push(String(n))));
console.log(results.map((r) => new TextDecoder().decode(r.data)).join(" "));

await workers[0].leave(at);
console.log(`${push.workers.length} worker after one left`);

for (const w of workers) await w.close();
for (const n of [node, ...nodes]) await n.close();

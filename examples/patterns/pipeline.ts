// Push/pull: a pusher spreads numbers over three workers by free capacity; a fourth worker
// does not exist, so it is dropped and its item moves on.
import { Chirp } from "chirp-wasm";
import { puller, pusher } from "chirp-wasm/patterns";

const workers = await Promise.all([1, 2, 3].map(() => Chirp.start({
  port: 0,
  onMessage: puller(async (item) => String(Number(item.text()) ** 2)),
})));

const node = await Chirp.start({ port: 0 });
const push = pusher(node, {
  workers: [...workers.map((w) => `127.0.0.1:${w.port}`), "127.0.0.1:1"],
  maxFailures: 1,
  onDrop: (w) => console.log(`dropped ${w.target}`),
});

const results = await Promise.all([1, 2, 3, 4, 5, 6].map((n) => push.push(String(n))));
console.log(results.map((r) => new TextDecoder().decode(r.data)).join(" "));
console.log(`${push.workers.length} workers left, ${push.workers.filter((w) => w.done > 0).length} did work`);

await node.close();
for (const w of workers) await w.close();

// Two nodes report to a collector; one stops, and the collector says it went down.
import { Chirp } from "chirp-wasm";
import { collector, startReporting } from "chirp-wasm/monitor";

const c = await collector({ port: 0, http: 0 }); // http: the dashboard, /metrics, /stats
c.on((e) => {
  if (e.type !== "joined") console.log(`event: ${e.type} ${e.node}`);
});
const api = await Chirp.start({ port: 0 });
const worker = await Chirp.start({ port: 0, synchronous: false, onMessage: (m) => m.release() });
const to = `127.0.0.1:${c.port}`;
startReporting(api, { to, every: 0.1, name: "api" }); // every: seconds (default 1)
const stopWorker = startReporting(worker, { to, every: 0.1, name: "worker" }).stop;

for (let i = 0; i < 3; i++) await api.send(`127.0.0.1:${worker.port}`, "job");
await new Promise((r) => setTimeout(r, 800));
for (const n of c.nodes().sort((a, b) => (a.node < b.node ? -1 : 1))) {
  const s = n.report.stats;
  console.log(`${n.node}: ${n.state}, ${s.synchronous ? "sync" : "async"}, ${s.messagesOut} out, ${s.messagesIn} in`);
}
const res = await fetch(`http://127.0.0.1:${c.http.port}/metrics`);
const metrics = (await res.text()).split("\n");
console.log(metrics.filter((l) => l.startsWith("chirp_messages_out_total")).join("\n"));

stopWorker(); // as if its process had died: no more reports
await new Promise((r) => setTimeout(r, 1000)); // down after 3 intervals without one
console.log(`down: ${c.nodes().filter((n) => n.state === "down").map((n) => n.node)}`);
await Promise.all([api.close(), worker.close(), c.close()]);

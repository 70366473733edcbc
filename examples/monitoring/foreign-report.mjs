// A report made by hand, as a libchirp C or Python node would send it: an ordinary message
// with the header C1 80 01 and the JSON report as its data (only the fields a collector needs).
import { Chirp } from "chirp-wasm";
import { collector } from "chirp-wasm/monitor";

const c = await collector({ port: 0 });
const node = await Chirp.start({ port: 0 });
const report = {
  v: 1, seq: 1, every: 5, name: "legacy-1", runtime: "libchirp", version: "1.2.1",
  stats: { identity: "00112233445566778899aabbccddeeff", port: 2998, messagesIn: 12, messagesOut: 7, bytesIn: 1200, bytesOut: 700 },
};
await node.send(`127.0.0.1:${c.port}`, JSON.stringify(report), { header: new Uint8Array([0xc1, 0x80, 0x01]) });
await new Promise((r) => setTimeout(r, 100));
const [n] = c.nodes();
console.log(`${n.node} (${n.runtime} ${n.version}): ${n.state}, ${n.report.stats.messagesOut} out, down if silent for ${3 * n.every} s`);
await Promise.all([node.close(), c.close()]);

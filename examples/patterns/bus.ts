// Bus: A knows B and C; B and C learn A from its message. Everyone sends to every member
// it knows.
import { Chirp } from "chirp-wasm";
import { bus } from "chirp-wasm/patterns";

const [a, b, c] = await Promise.all([0, 1, 2].map(() => Chirp.start({ port: 0 })));
const log: string[] = [];
const say = (who: string) => (msg: { text(): string }) => log.push(`${who} got "${msg.text()}"`);

const A = bus(a, say("A"), { peers: [`127.0.0.1:${b.port}`, `127.0.0.1:${c.port}`] });
const B = bus(b, say("B"));
bus(c, say("C"));

await A.send("hello everyone"); // synchronous mode: resolves when B and C took it
const r = await B.send("hello A"); // B only knows A
console.log(log.sort().join("\n"));
console.log(`B's message reached ${r.delivered} member(s)`);

for (const n of [a, b, c]) await n.close();

// Pair: exactly one peer. B pairs with A; C is refused with a clear error.
import { Chirp } from "chirp-wasm";
import { pair } from "chirp-wasm/patterns";

const [a, b, c] = await Promise.all([0, 1, 2].map(() => Chirp.start({ port: 0 })));
const atA = `127.0.0.1:${a.port}`;

pair(a, (msg) => console.log(`A got "${msg.text()}"`)); // takes the first node that comes
const B = pair(b, (msg) => console.log(`B got "${msg.text()}"`), { peer: atA });
const C = pair(c, () => {}, { peer: atA });

await B.send("hi A"); // says HELLO first, then sends
try {
  await C.send("me too");
} catch (e) {
  console.log((e as Error).name, (e as { code?: string }).code);
}

for (const n of [a, b, c]) await n.close();

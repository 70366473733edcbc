// Survey: ask three respondents, collect the answers until the deadline (or until all
// answered); one of them stays silent.
import { Chirp } from "chirp-wasm";
import { respondent, surveyor } from "chirp-wasm/patterns";

const names = ["ant", "bee", "cat"];
const nodes = await Promise.all(names.map((name) => Chirp.start({
  port: 0,
  // Return null (or undefined) to not answer.
  onMessage: respondent((q) => (name === "cat" ? null : `${name} says ${q.text()}`)),
})));

const node = await Chirp.start({ port: 0 });
const s = surveyor(node, { respondents: nodes.map((n) => `127.0.0.1:${n.port}`) });
const result = await s.survey("hi", { timeout: 0.5 });
console.log(result.responses.map((r) => r.message.text()).sort().join(", "));
console.log(`${result.missing.length} did not answer`);

await node.close();
for (const n of nodes) await n.close();

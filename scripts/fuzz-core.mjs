// Fuzzes the protocol core alone (build/chirp.wasm through the Core class), with random and
// mutated streams derived from test/corpus/ split at random chunk boundaries. The engine and
// the checks are in test/core/fuzz-engine.ts (compiled to build/js/test/core/fuzz-engine.js: run
// `npm run build` first). test/core/fuzz.test.ts runs a short budget in CI; run long ones by hand:
//
//   node scripts/fuzz-core.mjs --seconds 600 [--seed N] [--save]
//   node scripts/fuzz-core.mjs --replay /tmp/chirp-fuzz-<hash>.json
//
// --save writes inputs that reach an event kind, error code or end state no corpus file
// reaches (as the C host sees them: plain feeding, both modes and directions, every split
// giving the same outcome) to test/corpus/fuzz-*.bin; scripts/make-corpus.mjs keeps fuzz-*
// files. Failing inputs are written to the system temp directory as replayable JSON.
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createHash } from "node:crypto";
import { fuzz, replay, caseToJson, caseFromJson } from "../build/js/test/core/fuzz-engine.js";

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const corpusDir = new URL("../test/corpus/", import.meta.url);

if (opt("replay")) {
  const k = caseFromJson(readFileSync(opt("replay"), "utf8"));
  const r = replay(k);
  console.log(`${r.ok ? "ok" : "FAIL"}: ${r.message}`);
  process.exit(r.ok ? 0 : 1);
}

const seconds = Number(opt("seconds", 30));
const seed = Number(opt("seed", (Date.now() ^ (Math.random() * 0x7fffffff)) >>> 0));
const corpus = readdirSync(corpusDir).filter((f) => f.endsWith(".bin")).sort()
  .map((name) => ({ name, bytes: new Uint8Array(readFileSync(new URL(name, corpusDir))) }));
console.log(`fuzz: seed ${seed}, ${seconds} s, ${corpus.length} corpus files`);
const r = fuzz({ corpus, seconds, seed, log: (s) => console.log(s) });
console.log(`fuzz: ${r.inputs} inputs executed (${r.executions} executions with the differential re-runs) in ${(r.ms / 1000).toFixed(1)} s, ${r.features.size} features, pool ${r.pool}`);
console.log(`fuzz: inputs by origin ${JSON.stringify(r.byOrigin)}`);
console.log(`fuzz: end states ${JSON.stringify(r.endStates)}`);
if (args.includes("--save")) {
  for (const n of r.coarseNew) {
    const name = `fuzz-${n.name}-${createHash("sha1").update(n.bytes).digest("hex").slice(0, 8)}.bin`.slice(0, 120);
    writeFileSync(new URL(name, corpusDir), n.bytes);
    console.log(`fuzz: saved test/corpus/${name} (${n.bytes.length} bytes: ${n.features.join(", ")})`);
  }
} else if (r.coarseNew.length) {
  console.log(`fuzz: ${r.coarseNew.length} input(s) reach something new for the corpus; run with --save to keep them`);
}
for (const f of r.failures) {
  const json = caseToJson(f.kase);
  const file = join(tmpdir(), `chirp-fuzz-${createHash("sha1").update(json).digest("hex").slice(0, 12)}.json`);
  writeFileSync(file, json);
  console.log(`FAIL: ${f.reason}\n  replay: node scripts/fuzz-core.mjs --replay ${file}`);
}
console.log(`fuzz: ${r.failures.length} failure(s)`);
process.exit(r.failures.length ? 1 : 0);

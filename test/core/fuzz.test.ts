// A short fuzzing budget for CI (test/core/fuzz-engine.ts; long runs: scripts/fuzz-core.mjs): random
// and mutated streams derived from test/corpus/, split at random chunk boundaries, fed to the
// core with an engine-like host. No trap, memory never grows, every connection ends still
// parsing or after exactly one clean EV_ERROR (or a timer the host made fire), and plain runs
// give the spec's reference outcome, the same for any split and for both modes.
// CHIRP_FUZZ_SECONDS (default 6) and CHIRP_FUZZ_SEED set the budget and the seed.
import { test } from "uvu";
import * as assert from "uvu/assert";
import process from "node:process";
import { readdirSync, readFileSync, existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";
import { fuzz, caseToJson } from "./fuzz-engine.ts";
import { ST } from "../../adapters/core/core.ts";

function corpusDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, "test", "corpus")) && existsSync(join(dir, "package.json"))) return join(dir, "test", "corpus");
    const up = dirname(dir);
    if (up === dir) throw new Error("test/corpus not found");
    dir = up;
  }
}

test("fuzz: the core survives random and mutated streams", () => {
  const seconds = Number(process.env.CHIRP_FUZZ_SECONDS ?? 6);
  const seed = Number(process.env.CHIRP_FUZZ_SEED ?? ((Date.now() ^ (Math.random() * 0x7fffffff)) >>> 0));
  const dir = corpusDir();
  const corpus = readdirSync(dir).filter((f) => f.endsWith(".bin")).sort()
    .map((name) => ({ name, bytes: new Uint8Array(readFileSync(join(dir, name))) }));
  assert.ok(corpus.length >= 12, `${corpus.length} corpus files`);
  const r = fuzz({ corpus, seconds, seed });
  console.log(`fuzz: ${r.inputs} inputs executed (${r.executions} executions incl. differential re-runs) in ${(r.ms / 1000).toFixed(1)} s; seed ${seed} (replay: CHIRP_FUZZ_SEED=${seed}); ${r.features.size} features`);
  console.log(`fuzz: end states ${JSON.stringify(r.endStates)}`);
  for (const f of r.failures.slice(0, 5)) console.log(`fuzz FAIL: ${f.reason}\n  case: ${caseToJson(f.kase).slice(0, 2000)}`);
  assert.is(r.failures.length, 0, `${r.failures.length} failure(s); first: ${r.failures[0]?.reason}`);
  assert.ok(r.inputs > 200, `only ${r.inputs} inputs`);
  // Every outcome class was reached: the fuzzer is not stuck in one corner.
  const ends = Object.keys(r.endStates).join(" ");
  for (const want of [`end:error:${ST.BAD_FRAME}`, `end:error:${ST.TOO_BIG}`, "end:2:parsing"]) assert.ok(ends.includes(want), `no input ended in ${want}: ${ends}`);
});

test.run();

// The protocol core outside JavaScript: builds the C host (host/c: build/chirp.wasm translated by
// wabt's wasm2c, compiled with the system C compiler) with make and runs its conformance checks
// (protocol.md §2.7 vectors, two instances exchanging messages, the fuzz corpus in test/corpus/).
// Needs wasm2c (env CHIRP_WASM2C, default `wasm2c` on PATH; Debian/Ubuntu: apt-get install wabt;
// .ci/run installs it) and make: without them it says so and skips (test/support/skip.ts). Runs on
// Node only: the C host does not depend on the JavaScript runtime (test/run.mjs runs it once).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { skipFile } from "./support/skip.ts";

/** The conformance program printed this many checks when this test was written; fewer means
 * checks were lost. */
const MIN_CHECKS = 270;

/** The repository root: this file runs from test/ or compiled from build/js/test/. */
function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, "host", "c", "Makefile")) && existsSync(join(dir, "package.json"))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error("repository root (with host/c/Makefile) not found above " + fileURLToPath(import.meta.url));
    dir = up;
  }
}
const root = repoRoot();
const wasm = join(root, "build", "chirp.wasm");
const corpus = join(root, "test", "corpus");
/** The wasm2c to use: CHIRP_WASM2C (a name on PATH or a path), else wasm2c on PATH. */
const WASM2C = process.env.CHIRP_WASM2C || "wasm2c";
const has = (tool: string) => spawnSync("sh", ["-c", 'command -v "$1" >/dev/null', "sh", tool]).status === 0;
const missing = !has(WASM2C)
  ? `${WASM2C} (wabt's wasm2c) is not found: install wabt (Debian/Ubuntu: apt-get install -y wabt) or set CHIRP_WASM2C to it`
  : !has("make") ? "make is not installed (Debian/Ubuntu: apt-get install -y make)" : "";

if (missing) skipFile(missing);
else {

test("build/chirp.wasm and the corpus exist", () => {
  assert.ok(existsSync(wasm), `${wasm} is missing: run npm run build (npm test does) first`);
  const files = existsSync(corpus) ? readdirSync(corpus).filter((f) => f.endsWith(".bin")) : [];
  assert.ok(files.length >= 12, `test/corpus has ${files.length} .bin files (regenerate: node scripts/make-corpus.mjs)`);
});

test("C host: make -C host/c builds it, and every conformance check passes", () => {
  const mk = spawnSync("make", ["-C", "host/c", `WASM2C=${WASM2C}`], { cwd: root, encoding: "utf8", timeout: 5 * 60_000 });
  assert.is(mk.status, 0, `make -C host/c failed (is wabt installed? apt-get install -y wabt):\n${mk.stdout ?? ""}${mk.stderr ?? ""}${mk.error ?? ""}`);
  const bin = join(root, "build", "c", "conformance");
  const run = spawnSync(bin, [wasm, corpus], { cwd: root, encoding: "utf8", timeout: 5 * 60_000, maxBuffer: 16 << 20 });
  const out = run.stdout ?? "";
  const lines = out.trimEnd().split("\n");
  const fails = lines.filter((l) => l.startsWith("FAIL"));
  const last = lines.at(-1) ?? "";
  const m = /^(\d+) passed, (\d+) failed$/.exec(last);
  assert.ok(m, `no closing "N passed, M failed" line (exit ${run.status}, signal ${run.signal}):\n${out.slice(-3000)}${run.stderr ?? ""}`);
  const [passed, failed] = [Number(m![1]), Number(m![2])];
  console.log(`  C host (${lines[0].replace(/^#\s*/, "")}): ${last}`);
  assert.is(failed, 0, `the C host reported failures:\n${fails.join("\n")}`);
  assert.is(run.status, 0, `the C host exited with ${run.status} (signal ${run.signal}):\n${run.stderr ?? ""}`);
  assert.ok(passed >= MIN_CHECKS, `only ${passed} checks ran, expected at least ${MIN_CHECKS}`);
});

}

test.run();

// Runs every test file (test/*.test.ts, test/core/**/*.test.ts, patterns/**/*.test.ts) in its
// own process, on each runtime (the files in the "runs once" table below only on Node), and
// prints one closing line "N passed, M failed[, K skipped]". Node runs the compiled JavaScript
// (build/js/...); Deno and Bun run the TypeScript sources.
// Usage: node test/run.mjs [node|deno|bun ...]; TEST_FILTER=regex picks files by name.
import { spawnSync } from "node:child_process";
import { readdirSync, existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { join } from "node:path";

const root = fileURLToPath(new URL("..", import.meta.url));
const bin = (name) => join(root, "node_modules", ".bin", name);
const runtimes = {
  node: (f) => [process.execPath, [join(root, "build/js", f.replace(/\.ts$/, ".js"))]],
  deno: (f) => [bin("deno"), ["run", "-A", join(root, f)]],
  bun: (f) => [bin("bun"), ["run", join(root, f)]],
};
const only = process.argv.slice(2).filter((a) => a in runtimes);
const chosen = only.length ? only : Object.keys(runtimes).filter((r) => r === "node" || existsSync(bin(r)));
const filter = process.env.TEST_FILTER ? new RegExp(process.env.TEST_FILTER) : null;
// Paths from the repo root; TEST_FILTER is matched against the name shown (test/ dropped).
const collect = (dir, recursive) => existsSync(join(root, dir))
  ? readdirSync(join(root, dir), { recursive }).map(String).filter((f) => f.endsWith(".test.ts")).sort().map((f) => `${dir}/${f}`)
  : [];
const name = (f) => f.replace(/^test\//, "");
const files = [...collect("test", false), ...collect("test/core", true), ...collect("patterns", true)]
  .filter((f) => !filter || filter.test(name(f)));

// Runs once, on node: why. (A name ending in "/" is every file below that folder.) These do not
// touch a runtime, or they start Node, Deno and Bun themselves; every other file runs on every
// chosen runtime.
const ONCE = {
  "core/": "the pure protocol core (build/chirp.wasm): no runtime API involved",
  "c-host.test.ts": "the core in a C host (wasm2c): runtime-independent",
  "api-docs.test.ts": "runs deno doc on the sources itself (the lint and the HTML reference)",
  "package.test.ts": "imports the package on Node, Deno and Bun itself",
  "interop.test.ts": "starts peers on Node, Deno and Bun itself",
  "patterns/cross-runtime.test.ts": "starts pattern peers on Node, Deno and Bun itself",
  "pool-cross-runtime.test.ts": "starts a Bun pool and Deno and Node worker processes itself",
  "backchannel-prometheus.test.ts": "starts its reporters on Node, Deno and Bun itself, and one Prometheus",
  "backchannel-browser.test.ts": "starts its reporters on Node, Deno and Bun itself, and one Chromium",
};
const runsOnce = (n) => Object.keys(ONCE).some((k) => (k.endsWith("/") ? n.startsWith(k) : n === k));

let passed = 0, failed = 0, skipped = 0;
const failures = [];
for (const rt of chosen) {
  for (const f of files) {
    if (runsOnce(name(f)) && rt !== "node") continue;
    const [cmd, args] = runtimes[rt](f);
    const t0 = Date.now();
    const r = spawnSync(cmd, args, { cwd: root, encoding: "utf8", env: { ...process.env, CHIRP_RUNTIME: rt }, timeout: 4 * 60_000, maxBuffer: 64 << 20 });
    const out = (r.stdout ?? "") + (r.stderr ?? "");
    const plain = out.replace(/\x1b\[[0-9;]*m/g, "");
    const total = Number(/Total:\s+(\d+)/.exec(plain)?.[1] ?? 0);
    const ok = Number(/Passed:\s+(\d+)/.exec(plain)?.[1] ?? 0);
    const sk = Number(/Skipped:\s+(\d+)/.exec(plain)?.[1] ?? 0);
    // uvu's Total leaves skipped tests out; a file must pass or skip at least one test.
    const bad = r.status !== 0 || total + sk === 0 || ok < total;
    passed += ok;
    skipped += sk;
    const nfail = bad ? Math.max(1, total - ok) : 0;
    failed += nfail;
    console.log(`${bad ? "FAIL" : "ok  "} ${rt.padEnd(4)} ${name(f).padEnd(36)} ${ok}/${total} passed${sk ? `, ${sk} skipped` : ""} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
    if (bad || process.env.TEST_VERBOSE) {
      process.stdout.write(out.split("\n").map((l) => "    " + l).join("\n") + "\n");
      if (bad) failures.push(`${rt} ${f}`);
    }
  }
}
if (failures.length) console.log(`failed: ${failures.join(", ")}`);
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}`);
process.exit(failed ? 1 : 0);

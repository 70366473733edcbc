// docs/monitoring.md runs: every example block (marked `<!-- example: PATH -->`) equals the
// file it names, every file of examples/monitoring/ is in the doc, and each runs on this
// runtime (importing "chirp-wasm" as a user would: the package refers to itself) and prints
// what the doc shows. Also: the doc's tables name every Prometheus series the collector serves.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawn } from "node:child_process";
import { readFileSync, readdirSync } from "node:fs";
import process from "node:process";
import { repoRoot as repo, runtime } from "./support/runtime.ts";

const doc = readFileSync(`${repo}/docs/monitoring.md`, "utf8");
const blocks = [...doc.matchAll(/<!-- example: (\S+) -->\n```js\n([\s\S]*?)```\n\nIt prints:\n\n```text\n([\s\S]*?)```/g)]
  .map(([, path, code, output]) => ({ path, code, output }));

function run(path: string): Promise<{ code: number | null; out: string; err: string }> {
  const bin = process.execPath; // this runtime's binary
  const args = runtime === "deno" ? ["run", "-A", path] : runtime === "bun" ? ["run", path] : [path];
  const child = spawn(bin, args, { cwd: repo, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stdout!.on("data", (d: Uint8Array) => (out += new TextDecoder().decode(d)));
  child.stderr!.on("data", (d: Uint8Array) => (err += new TextDecoder().decode(d)));
  return new Promise((resolve) => child.once("close", (code) => resolve({ code, out, err })));
}

test("the doc includes every example file once, verbatim", () => {
  const files = readdirSync(`${repo}/examples/monitoring`).filter((f) => f.endsWith(".mjs")).map((f) => `examples/monitoring/${f}`).sort();
  assert.ok(files.length >= 2);
  assert.equal(blocks.map((b) => b.path).sort(), files);
  for (const b of blocks) assert.fixture(b.code, readFileSync(`${repo}/${b.path}`, "utf8"), `${b.path} in docs/monitoring.md`);
});

for (const b of blocks) {
  test(`${b.path} runs on ${runtime} and prints what the doc shows`, async () => {
    const r = await run(b.path);
    assert.is(r.code, 0, `exit code; stderr: ${r.err}`);
    assert.fixture(r.out, b.output);
  });
}

test("the doc names every series of the collector's own", () => {
  const src = readFileSync(`${repo}/adapters/monitor/collector-metrics.ts`, "utf8");
  const names = [...src.matchAll(/own\("(\w+)"/g)].map((m) => `chirp_${m[1]}`);
  assert.ok(names.length >= 10);
  for (const n of names) assert.match(doc, new RegExp(`\`${n}[{\`]`), n);
});

test.run();

// The API reference (issue 17): every public export of the three entry points (adapters/mod.ts,
// patterns/mod.ts, adapters/monitor/mod.ts) has a doc comment, as `npm run docs:lint` (deno doc
// --lint) checks, and `npm run docs` (deno doc --html) builds the reference. Both commands are
// read from package.json and run with node_modules/.bin/deno, so this tests what the scripts do;
// the HTML goes to a temporary directory, not build/docs. Runs once (from Node): Deno runs itself.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { repoRoot } from "./support/runtime.ts";

const deno = join(repoRoot, "node_modules/.bin/deno");
const ENTRY_POINTS = ["adapters/mod.ts", "patterns/mod.ts", "adapters/monitor/mod.ts"];
const scripts = (JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8")) as { scripts: Record<string, string> }).scripts;

/** A package.json script "deno doc ..." as the arguments after `deno`. */
function denoArgs(script: string): string[] {
  const words = (scripts[script] ?? "").trim().split(/\s+/);
  assert.is(words[0], "deno", `npm run ${script} runs deno: ${scripts[script]}`);
  return words.slice(1);
}

/** Runs deno with `args` in `cwd`; the exit code and the output without colours. */
function run(args: string[], cwd = repoRoot): { status: number | null; out: string } {
  const r = spawnSync(deno, args, { cwd, encoding: "utf8", env: { ...process.env, NO_COLOR: "1" }, timeout: 120_000 });
  if (r.error) throw r.error;
  return { status: r.status, out: `${r.stdout}${r.stderr}`.replace(/\x1b\[[0-9;]*m/g, "") };
}

/** The lint's problems: each "error[...]" block up to its source location. */
function problems(out: string): string[] {
  const lines = out.split("\n");
  const found: string[] = [];
  lines.forEach((l, i) => {
    if (l.startsWith("error[")) found.push(`${l}\n${lines.slice(i + 1, i + 5).join("\n")}`);
  });
  return found;
}

const tmp = mkdtempSync(join(tmpdir(), "chirp-api-docs-"));

test("npm run docs:lint lints the three entry points", () => {
  const args = denoArgs("docs:lint");
  assert.equal(args.slice(0, 2), ["doc", "--lint"]);
  for (const e of ENTRY_POINTS) assert.ok(args.includes(e), `docs:lint covers ${e}: ${scripts["docs:lint"]}`);
});

test("the lint fails on an undocumented export (so a zero exit means something)", () => {
  const dir = mkdtempSync(join(tmp, "bare-"));
  writeFileSync(join(dir, "mod.ts"), "// A line comment is not a doc comment.\nexport function undocumented(): number {\n  return 1;\n}\n");
  const r = run(["doc", "--lint", "mod.ts"], dir);
  assert.is.not(r.status, 0, `deno doc --lint passed an undocumented export:\n${r.out}`);
  assert.ok(problems(r.out).some((p) => p.startsWith("error[missing-jsdoc]")), r.out);
});

test("every public export is documented (npm run docs:lint: no problems)", () => {
  const r = run(denoArgs("docs:lint"));
  const found = problems(r.out);
  assert.ok(r.status === 0 && found.length === 0,
    `deno doc --lint: exit ${r.status}, ${found.length} problems:\n\n${found.join("\n\n")}\n${found.length ? "" : r.out}`);
});

test("npm run docs writes the HTML reference (index.html, a page per export)", () => {
  const out = join(tmp, "docs");
  const args = denoArgs("docs");
  assert.ok(args.includes("--html") && args.some((a) => a.startsWith("--output=")), scripts.docs);
  for (const e of ENTRY_POINTS) assert.ok(args.includes(e), `docs covers ${e}: ${scripts.docs}`);
  const r = run(args.map((a) => (a.startsWith("--output=") ? `--output=${out}` : a)));
  assert.is(r.status, 0, r.out);
  assert.ok(existsSync(join(out, "index.html")), `no index.html in ${out}:\n${r.out}`);
  assert.ok(readFileSync(join(out, "index.html"), "utf8").includes("chirp-wasm"), "index.html names the package");
  const pages = new Set(readdirSync(out, { recursive: true }).map((f) => String(f).split(/[\\/]/).pop()));
  // One export of each entry point: the node, a pattern, the collector.
  for (const page of ["Chirp.html", "Pusher.html", "Collector.html"]) assert.ok(pages.has(page), `no ${page} in the reference`);
});

test.after(() => rmSync(tmp, { recursive: true, force: true }));

test.run();

// No import cycles among the repo's modules (scripts/check-cycles.mjs), type-only imports
// included; and the checker itself finds a cycle it is shown (a scratch tree).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { repoRoot, runtime } from "./support/runtime.ts";

const repo = repoRoot;
const node = runtime === "node" ? process.execPath : "node";

function check(args: string[]): { status: number | null; lines: string[] } {
  const r = spawnSync(node, [join(repo, "scripts/check-cycles.mjs"), ...args], { encoding: "utf8", timeout: 60_000 });
  assert.is(r.stderr, "", "the checker writes nothing to stderr");
  return { status: r.status, lines: r.stdout.trim().split("\n") };
}

test("no import cycle anywhere in the repo", () => {
  const { status, lines } = check([]);
  const cycles = lines.filter((l) => l.startsWith("cycle: "));
  assert.equal(cycles, [], "import cycles");
  assert.match(lines[lines.length - 1], /^\d+ files, \d+ cycle\(s\), 0 not allowed$/);
  assert.ok(Number(lines[lines.length - 1].split(" ")[0]) > 50, "it read the repo's files");
  assert.is(status, 0);
});

test("the checker finds and prints a cycle, across import and export-from forms", () => {
  const dir = mkdtempSync(join(tmpdir(), "chirp-cycles-"));
  try {
    mkdirSync(join(dir, "cli"));
    mkdirSync(join(dir, "bench"));
    writeFileSync(join(dir, "cli/a.ts"), `import type {\n  B,\n} from "./b.ts";\nexport const a = 1;\n`);
    writeFileSync(join(dir, "cli/b.ts"), `export * from "../bench/c.ts";\nexport type B = number;\n`);
    writeFileSync(join(dir, "bench/c.ts"), `import "../cli/a.ts";\n// import { x } from "./d.ts" is a comment\n`);
    writeFileSync(join(dir, "bench/d.ts"), `import { c } from "./c.ts";\n`);
    const bad = check(["--root", dir]);
    assert.is(bad.status, 1);
    assert.equal(bad.lines.filter((l) => l.startsWith("cycle: ")), ["cycle: bench/c.ts -> cli/a.ts -> cli/b.ts -> bench/c.ts"]);
    const allowed = check(["--root", dir, "--allow", "cli/", "--allow", "bench/"]);
    assert.is(allowed.status, 0, "a cycle under the allowed prefixes does not count");
    assert.ok(allowed.lines.includes("allowed cycle: bench/c.ts -> cli/a.ts -> cli/b.ts -> bench/c.ts"));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();

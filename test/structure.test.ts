// The tree's shape, as docs and reviews rely on it: every source file of adapters/ and
// assembly/ is at most 400 lines and opens with a comment that says its job, and the runtime
// APIs are reached only from their own folders (Deno and Bun globals from adapters/deno/ and
// adapters/bun/, node:net and node:tls from adapters/node/ and adapters/tls/, node:http from
// adapters/monitor/). Reads the files with node:fs (all three runtimes provide it).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { repoRoot } from "./support/runtime.ts";

const repo = repoRoot;

function sources(dir: string): string[] {
  return readdirSync(join(repo, dir), { recursive: true }).map(String)
    .filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts") && !f.endsWith("core-wasm.ts"))
    .map((f) => `${dir}/${f}`);
}

const files = [...sources("adapters"), ...sources("assembly")];

test("adapters/ and assembly/ have source files to check", () => {
  assert.ok(files.length > 20, `found ${files.length}`);
});

test("no source file in adapters/ or assembly/ is over 400 lines", () => {
  const long = files.map((f) => [f, readFileSync(join(repo, f), "utf8").split("\n").length] as const).filter(([, n]) => n > 400);
  assert.equal(long, [], "files over 400 lines");
});

test("every source file opens with a comment saying its job", () => {
  const bare = files.filter((f) => !/^\/\/ \S/.test(readFileSync(join(repo, f), "utf8")));
  assert.equal(bare, [], "files without an opening comment");
});

test("runtime APIs are imported only from their own folders", () => {
  const rules: [RegExp, RegExp, string][] = [
    [/\bDeno\.(listen|connect|errors|TcpConn)\b/, /^adapters\/deno\//, "the Deno global"],
    [/\bBun\.(listen|connect|Socket|dns)\b/, /^adapters\/bun\//, "the Bun global"],
    [/from "node:dns"/, /^adapters\/node\//, "node:dns"],
    [/from "node:(net|tls)"/, /^adapters\/(node|tls)\//, "node:net / node:tls"],
    [/from "node:http"/, /^adapters\/monitor\//, "node:http"],
  ];
  const wrong: string[] = [];
  for (const f of files.filter((x) => x.startsWith("adapters/"))) {
    const code = readFileSync(join(repo, f), "utf8").split("\n").filter((l) => !l.trimStart().startsWith("//") && !l.trimStart().startsWith("*")).join("\n");
    for (const [use, where, what] of rules) if (use.test(code) && !where.test(f)) wrong.push(`${f} uses ${what}`);
  }
  assert.equal(wrong, [], "runtime APIs outside their folders");
});

test.run();

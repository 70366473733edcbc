// The README's "Use" example, run as users run it: extracted from README.md, importing the
// package entry of this runtime (build/js/adapters/<runtime>/entry.js, what the package's
// export condition picks), 100 times in a row in a child process; nothing may reach stderr
// (close() drains: the echo's reply is acknowledged before the nodes close, protocol.md §5.6).
import { test } from "uvu";
import * as assert from "uvu/assert";
import process from "node:process";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { repoRoot, runtime } from "./support/runtime.ts";

const RUNS = 100;

function example(): string {
  const readme = readFileSync(join(repoRoot, "README.md"), "utf8");
  const use = readme.slice(readme.indexOf("## Use"));
  const m = /```ts\n([\s\S]*?)```/.exec(use);
  assert.ok(m, "the Use section has a ts code block");
  return m![1];
}

test(`the README "Use" example runs ${RUNS} times in a row without printing an error`, () => {
  let code = example();
  const entry = pathToFileURL(join(repoRoot, "build/js/adapters", runtime, "entry.js")).href;
  assert.ok(code.includes(`from "chirp-wasm"`) && code.includes("2998") && code.includes("port: 2999"));
  // Free ports instead of 2998/2999 (tests share the machine); everything else as written.
  code = code
    .replace(`from "chirp-wasm"`, `from ${JSON.stringify(entry)}`)
    .replace("await Chirp.start({\n", "await Chirp.start({ port: 0,\n")
    .replace(`"127.0.0.1:2998"`, "`127.0.0.1:${echo.port}`")
    .replace("port: 2999", "port: 0");
  const imports = code.split("\n").filter((l) => l.startsWith("import "));
  const body = code.split("\n").filter((l) => !l.startsWith("import ")).join("\n");
  const script = `${imports.join("\n")}\nfor (let run = 0; run < ${RUNS}; run++) {\n${body}\n}\nprocess.stdout.write("done\\n");\n`;
  const dir = mkdtempSync(join(tmpdir(), "chirp-readme-"));
  try {
    const file = join(dir, "use.mjs");
    writeFileSync(file, script);
    const args = runtime === "deno" ? ["run", "-A", file] : runtime === "bun" ? ["run", file] : [file];
    const r = spawnSync(process.execPath, args, { encoding: "utf8", timeout: 120_000 });
    assert.is(r.stderr, "", "nothing printed to stderr");
    assert.is(r.status, 0);
    const lines = r.stdout.trim().split("\n");
    assert.is(lines.pop(), "done");
    assert.is(lines.length, RUNS, "one echo line per run");
    assert.ok(lines.every((l) => l.startsWith("hello ")), lines[0]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();

// docs/patterns.md runs: every example block (marked `<!-- example: PATH -->`) must equal the
// file it names, and each file is executed on this runtime in its own process; what it prints
// must equal the `text` block shown under it. Every file in examples/patterns/ is in the doc.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { readFileSync, readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { runtime, scriptCommand } from "../test/runtime.ts";

// build/js/patterns when compiled for Node, else patterns/: find the repo by its doc.
const here = new URL(".", import.meta.url);
const repo = new URL(runtime === "node" ? "../../../" : "../", here);
const doc = readFileSync(new URL("docs/patterns.md", repo), "utf8");

const blocks = [...doc.matchAll(/<!-- example: (\S+) -->\n```ts\n([\s\S]*?)```\n\nIt prints:\n\n```text\n([\s\S]*?)```/g)]
  .map(([, path, code, output]) => ({ path, code, output }));

test("the doc includes every example file once, verbatim", () => {
  const files = readdirSync(new URL("examples/patterns/", repo)).filter((f) => f.endsWith(".ts")).map((f) => `examples/patterns/${f}`).sort();
  assert.equal(blocks.map((b) => b.path).sort(), files);
  for (const b of blocks) assert.fixture(b.code, readFileSync(new URL(b.path, repo), "utf8"), `${b.path} in docs/patterns.md`);
});

for (const b of blocks) {
  test(`${b.path} runs on ${runtime} and prints what the doc shows`, () => {
    const [cmd, args] = scriptCommand(b.path, [], runtime);
    const r = spawnSync(cmd, args, { encoding: "utf8", timeout: 60_000, cwd: fileURLToPath(repo) });
    assert.is(r.status, 0, `exit code; stderr: ${r.stderr}`);
    assert.fixture(r.stdout, b.output);
  });
}

test.run();

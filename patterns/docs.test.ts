// docs/patterns.md runs: every example block (marked `<!-- example: PATH -->`) must equal the
// file it names, and each file is executed on this runtime in its own process; what it prints
// must equal the `text` block shown under it. Every file in examples/patterns/ is in the doc.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { repoRoot as repo, runtime } from "../test/support/runtime.ts";
import { Child } from "../test/support/process.ts";

const doc = readFileSync(join(repo, "docs/patterns.md"), "utf8");

const blocks = [...doc.matchAll(/<!-- example: (\S+) -->\n```ts\n([\s\S]*?)```\n\nIt prints:\n\n```text\n([\s\S]*?)```/g)]
  .map(([, path, code, output]) => ({ path, code, output }));

test("the doc includes every example file once, verbatim", () => {
  const files = readdirSync(join(repo, "examples/patterns")).filter((f) => f.endsWith(".ts")).map((f) => `examples/patterns/${f}`).sort();
  assert.equal(blocks.map((b) => b.path).sort(), files);
  for (const b of blocks) assert.fixture(b.code, readFileSync(join(repo, b.path), "utf8"), `${b.path} in docs/patterns.md`);
});

for (const b of blocks) {
  test(`${b.path} runs on ${runtime} and prints what the doc shows`, async () => {
    const c = new Child(b.path, [], { cwd: repo, input: "" });
    assert.is(await c.finished(60_000), 0, `exit code; stderr: ${c.err()}`);
    assert.fixture(c.text(), b.output);
  });
}

test.run();

// docs/pool.md runs: every example block (marked `<!-- example: PATH -->`) equals the file it
// names, every file in examples/pool/ is in the doc, and each block followed by an "It
// prints:" block is executed on this runtime in its own process and must print just that.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { repoRoot as repo, runtime } from "./support/runtime.ts";
import { Child } from "./support/process.ts";

const doc = readFileSync(join(repo, "docs/pool.md"), "utf8");
const blocks = [...doc.matchAll(/<!-- example: (\S+) -->\n```ts\n([\s\S]*?)```\n(?:\nIt prints:\n\n```text\n([\s\S]*?)```)?/g)]
  .map(([, path, code, output]) => ({ path, code, output }));

test("the doc includes every example file once, verbatim", () => {
  const files = readdirSync(join(repo, "examples/pool")).filter((f) => f.endsWith(".ts")).map((f) => `examples/pool/${f}`).sort();
  assert.equal(blocks.map((b) => b.path).sort(), files);
  for (const b of blocks) assert.fixture(b.code, readFileSync(join(repo, b.path), "utf8"), `${b.path} in docs/pool.md`);
  assert.ok(blocks.filter((b) => b.output !== undefined).length >= 2, "runnable examples");
});

for (const b of blocks.filter((x) => x.output !== undefined)) {
  test(`${b.path} runs on ${runtime} and prints what the doc shows`, async () => {
    const c = new Child(b.path, [], { cwd: repo, input: "" });
    assert.is(await c.finished(60_000), 0, `exit code; stderr: ${c.err()}`);
    assert.fixture(c.text(), b.output!);
  });
}

test.run();

// A test file whose system tool is missing: says what is missing and how to install it, then
// registers one skipped test (test/run.mjs counts it in "K skipped"). With CI=true (.ci/run, which
// installs every tool) a missing tool is a failure instead: CI skips nothing.
import { test } from "uvu";

/** Skips the file's tests for `reason` (e.g. "wasm2c is not on PATH (Debian: apt-get install wabt)"). */
export function skipFile(reason: string): void {
  const ci = typeof process !== "undefined" && !!process.env.CI && process.env.CI !== "false";
  console.log(`skipped: ${reason}${ci ? " (CI=true: counted as a failure)" : ""}`);
  if (ci) {
    test(`needs a system tool: ${reason}`, () => {
      throw new Error(`${reason}; .ci/run installs it, so CI must not skip this file`);
    });
  } else {
    test.skip(`skipped: ${reason}`, () => {});
  }
}

// Which runtime runs this code, where the repository is, and how to start another process of
// a runtime on one of the repo's TypeScript scripts: Node runs the compiled JavaScript
// (build/js/...), Deno and Bun run the TypeScript source. For tests and benchmarks that need
// separate processes (test/support/process.ts starts them).
import process from "node:process";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { detectRuntime, type RuntimeName } from "../../adapters/runtime.ts";

export const runtime: RuntimeName = detectRuntime();

/** The repository root: this file is test/support/runtime.ts under Deno and Bun, and
 * build/js/test/support/runtime.js under Node. */
export const repoRoot: string = fileURLToPath(new URL(runtime === "node" ? "../../../../" : "../../", import.meta.url));

/** [command, args] that run `rel` (a .ts path from the repo root) with runtime `rt`. */
export function scriptCommand(rel: string, args: string[] = [], rt: RuntimeName = runtime, execPath?: string): [string, string[]] {
  if (rt === "node") {
    // From Deno or Bun, Node runs the compiled JavaScript too.
    const js = join(repoRoot, "build/js", rel.replace(/\.ts$/, ".js"));
    return [execPath ?? (runtime === "node" ? process.execPath : "node"), [js, ...args]];
  }
  const ts = join(repoRoot, rel);
  const bin = execPath ?? (runtime === rt ? process.execPath : join(repoRoot, "node_modules/.bin", rt));
  return rt === "deno" ? [bin, ["run", "-A", ts, ...args]] : [bin, ["run", ts, ...args]];
}

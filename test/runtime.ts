// How to start another process of the runtime running this code, on one of the repo's
// TypeScript scripts: Node runs the compiled JavaScript (build/js/...), Deno and Bun run the
// TypeScript source. For tests and benchmarks that need separate processes.
import process from "node:process";
import { fileURLToPath } from "node:url";
import { detectRuntime, type RuntimeName } from "../adapters/runtime.ts";

export const runtime: RuntimeName = detectRuntime();

/** [command, args] that run `rel` (a .ts path from the repo root) with `runtime`. */
export function scriptCommand(rel: string, args: string[] = [], rt: RuntimeName = runtime, execPath?: string): [string, string[]] {
  const root = new URL("../", import.meta.url); // build/js/ when compiled for Node, else the repo
  if (rt === "node") {
    // From Deno or Bun, Node runs the compiled JavaScript too.
    const js = runtime === "node" ? new URL(rel.replace(/\.ts$/, ".js"), root) : new URL(`build/js/${rel.replace(/\.ts$/, ".js")}`, root);
    return [execPath ?? (runtime === "node" ? process.execPath : "node"), [fileURLToPath(js), ...args]];
  }
  const repo = runtime === "node" ? new URL("../../", root) : root;
  const ts = fileURLToPath(new URL(rel, repo));
  const bin = execPath ?? (runtime === rt ? process.execPath : fileURLToPath(new URL(`node_modules/.bin/${rt}`, repo)));
  return rt === "deno" ? [bin, ["run", "-A", ts, ...args]] : [bin, ["run", ts, ...args]];
}

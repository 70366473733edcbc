// Which JavaScript runtime runs this code (checked in the manner of hono's getRuntimeKey).
// Deno and Bun both provide a `process` with versions.node, so they are recognised first.

export type RuntimeName = "node" | "deno" | "bun";

export function detectRuntime(): RuntimeName {
  const g = globalThis as { Deno?: unknown; Bun?: unknown; process?: { versions?: { node?: string; bun?: string; deno?: string } } };
  if (typeof g.Deno !== "undefined" || g.process?.versions?.deno) return "deno";
  if (typeof g.Bun !== "undefined" || g.process?.versions?.bun) return "bun";
  if (g.process?.versions?.node) return "node";
  throw new Error("unknown JavaScript runtime: not Node, Deno or Bun");
}

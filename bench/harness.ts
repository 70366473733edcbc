// What the two-process benchmarks share: options, result lines, CPU pinning and starting a
// role of a bench script as a child process on a given runtime.
import { spawn, spawnSync } from "node:child_process";
import process from "node:process";
import type { RuntimeName } from "../adapters/runtime.ts";
import { scriptCommand } from "../test/runtime.ts";

/** The numeric option `--name N`, or `dflt`. */
export function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
}

/** A line for the parent process (children talk to it over stdout). */
export function report(line: string): void {
  process.stdout.write(line + "\n");
}

export const hasTaskset = spawnSync("taskset", ["-c", "0", "true"]).status === 0;

export const median = (xs: number[]): number => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export interface Role {
  /** The child's stdout, line by line. */
  lines: AsyncIterator<string>;
  stdinEnd(): void;
  exited: Promise<number | null>;
}

/** Runs `script` (a .ts path from the repo root) with `args` on runtime `rt`, pinned to `cpu`
 * when taskset exists. */
export function runRole(script: string, rt: RuntimeName, cpu: number, args: string[]): Role {
  const [bin, binArgs] = scriptCommand(script, args, rt);
  const [cmd, argv] = hasTaskset ? ["taskset", ["-c", String(cpu), bin, ...binArgs]] : [bin, binArgs];
  const child = spawn(cmd, argv, { stdio: ["pipe", "pipe", "inherit"] });
  const exited = new Promise<number | null>((r) => child.once("exit", r));
  async function* lines(): AsyncIterable<string> {
    let buf = "";
    for await (const d of child.stdout!) {
      buf += new TextDecoder().decode(d as Uint8Array);
      let i: number;
      while ((i = buf.indexOf("\n")) >= 0) {
        yield buf.slice(0, i);
        buf = buf.slice(i + 1);
      }
    }
  }
  return { lines: lines()[Symbol.asyncIterator](), stdinEnd: () => child.stdin!.end(), exited };
}

/** Drains a role's output until it ends. */
export async function drain(role: Role): Promise<void> {
  for (let r = await role.lines.next(); !r.done; r = await role.lines.next()) { /* discard */ }
}

// An earlier revision of this repository, unpacked and built in a directory of its own, for the
// benches that measure an old build next to this checkout's in one run (bench/compare.ts,
// bench/tls-accept.ts). `git archive`, not `git worktree add`: nothing is registered in the
// repository, so a killed run leaves no worktree behind.
import { spawnSync } from "node:child_process";
import { symlinkSync } from "node:fs";
import { join, resolve } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { runtime } from "../test/support/runtime.ts";

/** The repository root: build/js/bench/*.js when compiled for Node, else bench/*.ts. */
export const repo = fileURLToPath(new URL(runtime === "node" ? "../../../" : "../", import.meta.url));

export function git(args: string[], input?: Uint8Array): Buffer {
  const r = spawnSync("git", args, { cwd: repo, input, maxBuffer: 1 << 30 });
  if (r.status !== 0) throw new Error(`git ${args.join(" ")}: ${r.stderr?.toString().trim() || `exit ${r.status}`}`);
  return r.stdout;
}

/** `commit`'s files unpacked into `dir`, with this checkout's node_modules linked in. */
export function unpackRevision(commit: string, dir: string): void {
  const tar = spawnSync("tar", ["-x", "-C", dir], { input: git(["archive", "--format=tar", commit]) });
  if (tar.status !== 0) throw new Error(`tar -x: ${tar.stderr.toString().trim()}`);
  symlinkSync(resolve(repo, "node_modules"), join(dir, "node_modules"));
}

/** `npm run build` in an unpacked revision; throws with the build's last lines if it fails. */
export function buildRevision(commit: string, dir: string): void {
  console.log(`building ${commit.slice(0, 12)} in ${dir} ...`);
  const npm = process.platform === "win32" ? "npm.cmd" : "npm";
  const b = spawnSync(npm, ["run", "build"], { cwd: dir, encoding: "utf8", maxBuffer: 64 << 20 });
  if (b.status !== 0) throw new Error(`npm run build of the base failed:\n${(b.stdout + b.stderr).split("\n").slice(-30).join("\n")}`);
}

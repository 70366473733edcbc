// TLS test material: scripts/make-test-certs.sh (openssl CLI) run once into build/test-certs
// and reused while younger than a day (the certificates are valid for 30), so nothing checked
// in can expire. Shared by the test files and by test/fixtures/peer.ts (config tlsDir).
import process from "node:process";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, renameSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { repoRoot as root } from "./runtime.ts";

/** Makes (or reuses) the certificates; returns their directory. */
export function testCertDir(): string {
  const dir = join(root, "build", "test-certs");
  const stamp = join(dir, "dh.pem");
  if (existsSync(stamp) && Date.now() - statSync(stamp).mtimeMs < 24 * 3600_000) return dir;
  const tmp = `${dir}.tmp-${process.pid}`;
  const r = spawnSync("bash", [join(root, "scripts", "make-test-certs.sh"), tmp], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`scripts/make-test-certs.sh failed (is openssl installed?): ${r.stderr}${r.error ?? ""}`);
  rmSync(dir, { recursive: true, force: true });
  renameSync(tmp, dir);
  return dir;
}

/** The text of one file of the test material (e.g. "node1.pem"). */
export function pem(name: string, dir = testCertDir()): string {
  return readFileSync(join(dir, name), "utf8");
}

// Builds libchirp 1.2.1 (the C reference node) for test/libchirp.test.ts, as
// ../shared/libchirp/README.md says: extract the source tarball, apply openssl3.patch, write
// libchirp-config.h, compile the library (every src/*.c but *_test.c and *_etest.c) and link
// libchirp's echo_etest and send_etest and our test/fixtures/libchirp-node.c against it. The
// result is cached in build/libchirp/<tarball size+mtime>/ (built in a temporary folder, then
// renamed). Returns the paths, or why it cannot build here (no source, no C compiler, no
// libuv/OpenSSL headers) so that the test file can print "skipped: <reason>".
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, isAbsolute, join, resolve } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";

export interface Libchirp {
  /** The extracted, patched source (include/, src/, mk/). */
  src: string;
  /** libchirp's own programs (src/echo_etest.c, src/send_etest.c); both read ./cert.pem and
   * ./dh.pem from their working directory. */
  echoEtest: string;
  sendEtest: string;
  /** test/fixtures/libchirp-node.c, linked against the library. */
  node: string;
  /** libchirp's example TLS files: mk/cert.pem (key, X.509 v1 leaf, CA) and mk/dh.pem. */
  certPem: string;
  dhPem: string;
}

export type LibchirpBuild = { ok: true; lib: Libchirp } | { ok: false; reason: string };

const VERSION = "1.2.1-beta";
const CFLAGS = ["-std=gnu99", "-DCH_BUILD", "-DNDEBUG", "-O2", "-pthread"];
const LIBS = ["-luv", "-lssl", "-lcrypto", "-lm", "-lpthread", "-lrt"];

/** The repository root: this file runs from test/support/ or compiled from build/js/test/support/. */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, "package.json")) && existsSync(join(dir, "test", "fixtures", "libchirp-node.c"))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error("repository root not found above " + fileURLToPath(import.meta.url));
    dir = up;
  }
}

/** In a git worktree, the main checkout (whose sibling shared/ the worktree lacks); else null. */
function mainCheckout(root: string): string | null {
  try {
    const dotgit = join(root, ".git");
    if (!existsSync(dotgit) || statSync(dotgit).isDirectory()) return null;
    const gitdir = resolve(root, /^gitdir:\s*(.+)$/m.exec(readFileSync(dotgit, "utf8"))![1].trim());
    const common = resolve(gitdir, readFileSync(join(gitdir, "commondir"), "utf8").trim());
    return dirname(common);
  } catch {
    return null;
  }
}

/** Where the source is looked for: $CHIRP_LIBCHIRP_DIR, else ../shared/libchirp beside the repo
 * (or beside the main checkout, for a git worktree). */
export function sourceCandidates(root = repoRoot()): string[] {
  const env = process.env.CHIRP_LIBCHIRP_DIR;
  if (env) return [isAbsolute(env) ? env : resolve(root, env)];
  const main = mainCheckout(root);
  return [join(root, "..", "shared", "libchirp"), ...(main && main !== root ? [join(main, "..", "shared", "libchirp")] : [])];
}

function run(cmd: string, args: string[], cwd: string, input?: string): { ok: boolean; out: string } {
  const r = spawnSync(cmd, args, { cwd, input, encoding: "utf8", timeout: 5 * 60_000, maxBuffer: 16 << 20 });
  const out = `${r.stdout ?? ""}${r.stderr ?? ""}${r.error ? String(r.error) : ""}`;
  return { ok: r.status === 0, out };
}

function must(cmd: string, args: string[], cwd: string): void {
  const r = run(cmd, args, cwd);
  if (!r.ok) throw new Error(`libchirp build: ${cmd} ${args.join(" ")} failed (in ${cwd}):\n${r.out.slice(-4000)}`);
}

/** Why this machine cannot build libchirp, or null. */
function missingTools(cc: string, dir: string): string | null {
  const v = run(cc, ["--version"], dir);
  if (!v.ok) return `no C compiler (${cc}: ${v.out.split("\n")[0] || "not found"}); install gcc`;
  for (const tool of ["tar", "patch"]) {
    if (!run("sh", ["-c", `command -v ${tool}`], dir).ok) return `${tool} is not installed`;
  }
  const h = run(cc, ["-E", "-x", "c", "-o", "/dev/null", "-"], dir, "#include <uv.h>\n#include <openssl/ssl.h>\n");
  if (!h.ok) {
    const first = h.out.split("\n").find((l) => /error/.test(l)) ?? h.out.split("\n")[0];
    return `libuv or OpenSSL headers are missing (Debian: apt-get install libuv1-dev libssl-dev): ${first.trim()}`;
  }
  return null;
}

/** Renames tmp to dir unless another process got there first. */
function publish(tmp: string, dir: string): void {
  try {
    renameSync(tmp, dir);
  } catch (e) {
    if (!existsSync(dir)) throw e;
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** Finds, builds (once) and returns libchirp, or the reason it cannot. */
export function buildLibchirp(): LibchirpBuild {
  const root = repoRoot();
  const tried = sourceCandidates(root);
  const from = tried.find((d) => existsSync(d));
  if (!from) return { ok: false, reason: `no libchirp source: ${tried.length > 1 ? `none of ${tried.join(", ")} exists` : `${tried[0]} does not exist`} (set CHIRP_LIBCHIRP_DIR to the folder with libchirp-*.tar.gz)` };
  const tarball = readdirSync(from).find((f) => /^libchirp-.*\.tar\.gz$/.test(f));
  const patch = join(from, "openssl3.patch");
  if (!tarball) return { ok: false, reason: `no libchirp-*.tar.gz in ${from}` };
  const tar = join(from, tarball);
  const cc = process.env.CC || "cc";
  const why = missingTools(cc, from);
  if (why) return { ok: false, reason: why };

  const stamp = (f: string): string => (existsSync(f) ? `${statSync(f).size}-${Math.floor(statSync(f).mtimeMs)}` : "none");
  const cache = join(root, "build", "libchirp");
  const dir = join(cache, `${tarball.replace(/\.tar\.gz$/, "")}-${stamp(tar)}-${stamp(patch)}`);
  const src = (base: string): string => join(base, readdirSync(base).find((f) => f.startsWith("libchirp-") && statSync(join(base, f)).isDirectory())!);
  if (!existsSync(join(dir, "send_etest"))) {
    mkdirSync(cache, { recursive: true });
    const tmp = join(cache, `tmp-${process.pid}-${Date.now()}`);
    mkdirSync(tmp);
    try {
      must("tar", ["xzf", tar, "-C", tmp], tmp);
      const s = src(tmp);
      if (existsSync(patch)) must("patch", ["-p1", "-i", patch], s);
      const cfgDir = join(s, "config");
      mkdirSync(cfgDir);
      writeFileSync(join(cfgDir, "libchirp-config.h"), readFileSync(join(s, "mk", "config.defs.h"), "utf8").replace(/XVERSIONX/g, VERSION));
      const objDir = join(s, "obj");
      mkdirSync(objDir);
      const units = readdirSync(join(s, "src")).filter((f) => f.endsWith(".c") && !/_e?test\.c$/.test(f)).sort();
      const inc = [`-I${join(s, "include")}`, `-I${cfgDir}`];
      must(cc, [...CFLAGS, ...inc, "-c", ...units.map((u) => join(s, "src", u))], objDir);
      const objs = units.map((u) => join(objDir, u.replace(/\.c$/, ".o")));
      for (const prog of ["echo_etest", "send_etest"]) {
        must(cc, [...CFLAGS, ...inc, "-o", join(tmp, prog), join(s, "src", `${prog}.c`), ...objs, ...LIBS], s);
      }
    } catch (e) {
      rmSync(tmp, { recursive: true, force: true });
      throw e;
    }
    publish(tmp, dir);
  }
  const s = src(dir);
  // Our node, keyed on its source so that an edit rebuilds it.
  const fixture = join(root, "test", "fixtures", "libchirp-node.c");
  const node = join(dir, `libchirp-node-${createHash("sha256").update(readFileSync(fixture)).digest("hex").slice(0, 12)}`);
  if (!existsSync(node)) {
    const objDir = join(s, "obj");
    const objs = readdirSync(objDir).filter((f) => f.endsWith(".o")).map((f) => join(objDir, f));
    const tmp = `${node}.tmp-${process.pid}`;
    must(cc, [...CFLAGS, "-Wall", `-I${join(s, "include")}`, `-I${join(s, "config")}`, "-o", tmp, fixture, ...objs, ...LIBS], s);
    publish(tmp, node);
    // Builds of earlier versions of the fixture are stale (a process may still run one: unlinking is safe).
    for (const f of readdirSync(dir)) if (/^libchirp-node-[0-9a-f]{12}$/.test(f) && join(dir, f) !== node) rmSync(join(dir, f), { force: true });
  }
  return {
    ok: true,
    lib: {
      src: s, echoEtest: join(dir, "echo_etest"), sendEtest: join(dir, "send_etest"), node,
      certPem: join(s, "mk", "cert.pem"), dhPem: join(s, "mk", "dh.pem"),
    },
  };
}

// Checks docs/protocol.md against the repository: every "§N.N" cited in the code, tests, scripts and docs
// is a heading there; no file points at the out-of-repo spec path; the §2.7 byte vectors in the doc are the bytes of test/corpus/.
// Reads files with node:fs only, so it runs on Node, Deno and Bun.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { concat, hex as toHex } from "./support/wire.ts";

/** The repository root: the nearest ancestor with package.json and assembly/ (this file runs
 * from test/ on Deno and Bun, from build/js/test/ on Node). */
function findRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, "package.json")) && existsSync(join(dir, "assembly"))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error("repository root not found");
    dir = up;
  }
}

const root = findRoot();
const DOC = join(root, "docs", "protocol.md");
const SCANNED_DIRS = ["adapters", "assembly", "cli", "patterns", "test", "bench", "host", "docs", "examples", "scripts"];
const EXTENSIONS = [".ts", ".md", ".c", ".h", ".mjs"];
const SKIPPED_DIRS = new Set(["node_modules", "build", ".git"]);
/** Built from parts so that this file does not cite the path it looks for. */
const SPEC_PATH = ["shared", "spec"].join("/");

function walk(dir: string, out: string[]): void {
  if (!existsSync(dir)) return;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) {
      if (!SKIPPED_DIRS.has(name)) walk(p, out);
    } else if (EXTENSIONS.some((e) => name.endsWith(e))) {
      out.push(p);
    }
  }
}

function scannedFiles(): string[] {
  const files: string[] = [];
  for (const d of SCANNED_DIRS) walk(join(root, d), files);
  files.push(join(root, "README.md"));
  return files.sort();
}

const rel = (p: string): string => relative(root, p).split("\\").join("/");

/** Markdown without its fenced code blocks (a "#" line inside a block is no heading). */
function withoutFences(md: string): string {
  return md.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[ \t]*$/gm, "");
}

/** Section numbers of the doc's headings: "## 2. Frames" → "2", "### 10.1 …" → "10.1". */
function headingNumbers(md: string): Set<string> {
  const out = new Set<string>();
  for (const m of withoutFences(md).matchAll(/^#{1,6}[ \t]+(\d+(?:\.\d+)*)\.?(?=[ \t])/gm)) out.add(m[1]);
  return out;
}

/** "§2.7", "§ 4.4", "§10" → "2.7", "4.4", "10" (a trailing sentence dot is not part of it). */
function citations(text: string): string[] {
  return Array.from(text.matchAll(/§ ?(\d+(?:\.\d+)*)/g), (m) => m[1]);
}

test("every § cited in the code, tests and docs is a heading of docs/protocol.md", () => {
  assert.ok(existsSync(DOC), "docs/protocol.md exists");
  const headings = headingNumbers(readFileSync(DOC, "utf8"));
  const citedBy = new Map<string, string[]>();
  for (const f of scannedFiles()) {
    for (const n of citations(readFileSync(f, "utf8"))) {
      const where = citedBy.get(n) ?? [];
      if (!where.includes(rel(f))) where.push(rel(f));
      citedBy.set(n, where);
    }
  }
  // The scan must have found the citations we know are there (a broken regex or walk would
  // otherwise pass with nothing to check).
  for (const known of ["1.4", "2.7", "3.6", "4.4", "5.5", "10.2"]) {
    assert.ok(citedBy.has(known), `§${known} is cited somewhere (scan works)`);
  }
  assert.ok(citedBy.size >= 30, `found ${citedBy.size} distinct cited sections`);
  const missing = [...citedBy].filter(([n]) => !headings.has(n)).map(([n, files]) => `§${n} (${files.join(", ")})`);
  assert.equal(missing, [], `cited sections without a heading in docs/protocol.md: ${missing.join("; ")}`);
});

test("the doc's sections keep libchirp's numbering: 0 to 12, and pitfalls 10.1 to 10.20", () => {
  const headings = headingNumbers(readFileSync(DOC, "utf8"));
  for (let i = 0; i <= 12; i++) assert.ok(headings.has(String(i)), `section ${i}`);
  for (let i = 1; i <= 20; i++) assert.ok(headings.has(`10.${i}`), `pitfall 10.${i}`);
  for (const n of ["1.1", "1.2", "1.3", "1.4", "1.5", "2.1", "2.2", "2.3", "2.4", "2.5", "2.6", "2.7", "2.8",
    "3.1", "3.2", "3.3", "3.4", "3.5", "3.6", "4.1", "4.2", "4.3", "4.4", "4.5", "4.6",
    "5.1", "5.2", "5.3", "5.4", "5.5", "5.6", "5.7"]) {
    assert.ok(headings.has(n), `section ${n}`);
  }
});

test("no file cites the out-of-repo spec path", () => {
  const offenders = scannedFiles().filter((f) => readFileSync(f, "utf8").includes(SPEC_PATH)).map(rel);
  assert.equal(offenders, [], `files citing ${SPEC_PATH}: ${offenders.join(", ")}`);
});

// ── §2.7 byte vectors ─────────────────────────────────────────────────────────────────────

/** The vectors of §2.7: each is a fenced block right after a `<!-- vector: NAME -->` line; each
 * line of a block is hex bytes separated by single spaces, then optionally two or more spaces
 * and a comment. */
function docVectors(): Map<string, Uint8Array> {
  const md = readFileSync(DOC, "utf8");
  const start = md.search(/^### 2\.7 /m);
  assert.ok(start >= 0, "docs/protocol.md has a §2.7 heading");
  const rest = md.slice(start + 4);
  const next = rest.search(/^#{2,3} /m);
  const section = next >= 0 ? rest.slice(0, next) : rest;
  const out = new Map<string, Uint8Array>();
  for (const m of section.matchAll(/<!-- vector: ([a-z0-9-]+) -->\s*\n```[^\n]*\n([\s\S]*?)\n```/g)) {
    const bytes: number[] = [];
    for (const raw of m[2].split("\n")) {
      const line = raw.trim();
      if (line === "") continue;
      const hex = /^((?:[0-9a-f]{2} )*[0-9a-f]{2})(?: {2,}.*)?$/.exec(line);
      assert.ok(hex, `vector ${m[1]}: "${line}" is hex bytes, then a comment after two spaces`);
      for (const h of hex![1].split(" ")) bytes.push(parseInt(h, 16));
    }
    assert.not.ok(out.has(m[1]), `vector ${m[1]} appears once`);
    out.set(m[1], Uint8Array.from(bytes));
  }
  return out;
}


/** Each corpus file built from §2.7 vectors (scripts/make-corpus.mjs), as the doc names them. */
const CORPUS_FROM_VECTORS: Record<string, string[]> = {
  "hs-31000.bin": ["hs-31000"],
  "hs-2997-fuzz-seed.bin": ["hs-2997"],
  "v27-data-req-ack-hdr-hello.bin": ["hs-2997", "data"],
  "v27-reply.bin": ["hs-2997", "reply"],
  "v27-ack-nothing-waiting.bin": ["hs-2997", "ack"],
  "v27-noop.bin": ["hs-2997", "noop"],
  "v27-all-frames.bin": ["hs-2997", "data", "reply", "ack", "noop"],
};

test("§2.7 vectors in the doc are well-formed handshakes and frames", () => {
  const v = docVectors();
  assert.equal([...v.keys()].sort(), ["ack", "data", "hs-2997", "hs-31000", "noop", "reply"]);
  for (const [name, port] of [["hs-31000", 31000], ["hs-2997", 2997]] as const) {
    const hs = v.get(name)!;
    assert.is(hs.length, 18, `${name}: 18 bytes`);
    assert.is((hs[0] << 8) | hs[1], port, `${name}: port`);
  }
  const types: Record<string, number> = { data: 0x01, reply: 0x01, ack: 0x02, noop: 0x04 };
  for (const [name, type] of Object.entries(types)) {
    const f = v.get(name)!;
    const dv = new DataView(f.buffer, f.byteOffset, f.byteLength);
    const dataLen = dv.getUint32(20);
    const headerLen = dv.getUint16(24);
    assert.is(f.length, 27 + headerLen + dataLen, `${name}: 27-byte header + header_len + data_len`);
    assert.is(f[26], type, `${name}: type byte`);
  }
  assert.is(toHex(v.get("noop")!.subarray(0, 16)), "00".repeat(16), "NOOP identity is zero");
  assert.is(toHex(v.get("data")!.subarray(27)), toHex(new TextEncoder().encode("HDRhello")));
  assert.is(toHex(v.get("ack")!.subarray(0, 16)), toHex(v.get("data")!.subarray(0, 16)), "ACK carries the message identity");
});

test("§2.7 vectors in the doc are the bytes of test/corpus/v27-*.bin and hs-*.bin", () => {
  const v = docVectors();
  const dir = join(root, "test", "corpus");
  // Every v27 file is covered here, so a new one cannot go unchecked.
  const v27 = readdirSync(dir).filter((f) => f.startsWith("v27-") && f.endsWith(".bin")).sort();
  assert.equal(v27, Object.keys(CORPUS_FROM_VECTORS).filter((f) => f.startsWith("v27-")).sort());
  for (const [file, names] of Object.entries(CORPUS_FROM_VECTORS)) {
    const want = concat(...names.map((n) => v.get(n)!));
    const got = new Uint8Array(readFileSync(join(dir, file)));
    assert.is(toHex(got), toHex(want), `${file} = ${names.join(" + ")}`);
  }
});

test.run();

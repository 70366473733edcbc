// Finds import cycles among the repo's TypeScript modules: parses the relative `import` and
// `export ... from` specifiers of the .ts files under adapters/ assembly/ cli/ bench/
// patterns/ test/ examples/, resolves them, and prints each cycle found by a depth-first search.
// Exit 1 if any cycle remains. Usage: node scripts/check-cycles.mjs [--root DIR] [--allow DIR/]
// (cycles whose files are all under --allow prefixes are printed as allowed, not counted).
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const opt = (name) => { const i = process.argv.indexOf(name); return i > 0 ? process.argv[i + 1] : undefined; };
const root = resolve(opt("--root") ?? join(dirname(fileURLToPath(import.meta.url)), ".."));
const allow = process.argv.flatMap((a, i) => (process.argv[i - 1] === "--allow" ? [a] : []));
const files = ["adapters", "assembly", "cli", "bench", "patterns", "test", "examples"].filter((d) => existsSync(join(root, d)))
  .flatMap((d) => readdirSync(join(root, d), { recursive: true }).map((f) => join(d, String(f)))).filter((f) => f.endsWith(".ts")).sort();
const known = new Set(files);
const IMPORT = /^\s*(?:import|export)\s(?:[^;"']*?\sfrom\s*)?["'](\.{1,2}\/[^"']+)["']/gm;
const edges = new Map(files.map((f) => [f, [...readFileSync(join(root, f), "utf8").matchAll(IMPORT)]
  .map((m) => relative(root, resolve(root, dirname(f), m[1])).replace(/\.js$/, ".ts")).filter((t) => known.has(t))]));
const state = new Map(), stack = [], cycles = new Map();
const visit = (f) => {
  state.set(f, "open"); stack.push(f);
  for (const t of edges.get(f)) {
    if (state.get(t) === "open") { const c = stack.slice(stack.indexOf(t)); const k = c.indexOf([...c].sort()[0]); cycles.set([...c.slice(k), ...c.slice(0, k)].join(" -> "), c); }
    else if (!state.has(t)) visit(t);
  }
  stack.pop(); state.set(f, "done");
};
for (const f of files) if (!state.has(f)) visit(f);
let counted = 0;
for (const [key, c] of cycles) {
  const allowed = c.every((f) => allow.some((p) => f.startsWith(p)));
  if (!allowed) counted++;
  console.log(`${allowed ? "allowed cycle" : "cycle"}: ${key} -> ${key.split(" -> ")[0]}`);
}
console.log(`${files.length} files, ${cycles.size} cycle(s), ${counted} not allowed`);
process.exit(counted > 0 ? 1 : 0);

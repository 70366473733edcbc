// chirpcat: Chirp from the command line, in the manner of nanocat (`chirpcat --help`).
// Node: bin/chirpcat.js (the package's `bin`, so `npx chirpcat`) imports the compiled
// build/js/cli/chirpcat.js; Deno: `deno run -A cli/chirpcat.ts`; Bun: `bun cli/chirpcat.ts`.
// The commands are in main.ts, `worker` (a worker process of a pool) in pool.ts, `loadtest`
// (an HTTP load tester on a pool) in loadtest.ts; the exit code is theirs (documented in --help).
import process from "node:process";

const args = process.argv.slice(2);
const run = args[0] === "worker" ? (await import("./pool.ts")).runWorker
  : args[0] === "loadtest" ? (await import("./loadtest.ts")).runLoadtest
  : (await import("./main.ts")).main;
process.exit(await run(args[0] === "worker" || args[0] === "loadtest" ? args.slice(1) : args));

// chirpcat: Chirp from the command line, in the manner of nanocat (`chirpcat --help`).
// Node: bin/chirpcat.js (the package's `bin`, so `npx chirpcat`) imports the compiled
// build/js/cli/chirpcat.js; Deno: `deno run -A cli/chirpcat.ts`; Bun: `bun cli/chirpcat.ts`.
// The commands are in main.ts; the exit code is main's (documented in --help).
import process from "node:process";
import { main } from "./main.ts";

process.exit(await main(process.argv.slice(2)));

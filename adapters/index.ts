// Universal entry point: picks the socket transport for the runtime it runs on (one
// detectRuntime() call) and re-exports the public API. The package's `node`, `deno` and `bun`
// export conditions point straight at node/entry.ts, deno/entry.ts and bun/entry.ts; this file serves the
// `default` condition and code that wants one import for every runtime (the tests).
import { setDefaultTransport } from "./chirp.ts";
import { detectRuntime } from "./runtime.ts";
import { nodeTransport } from "./node/transport.ts";
import { denoTransport } from "./deno/transport.ts";
import { bunTransport } from "./bun/transport.ts";

export * from "./mod.ts";
export { detectRuntime };

const runtime = detectRuntime();
setDefaultTransport(runtime === "deno" ? denoTransport : runtime === "bun" ? bunTransport : nodeTransport);

/** Which entry point of the package was loaded (the export conditions pick it per runtime). */
export const entryPoint = "universal";

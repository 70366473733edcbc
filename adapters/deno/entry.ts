// Deno entry point: the Transport (transport.ts) on Deno's native TCP API (deno/transport.ts),
// registered as the default.
//
// Native API or node:net? Measured on Deno 2.9.6 (2-core machine, 127.0.0.1, both ends in one
// process, three runs each; ranges, since runs vary a lot on this machine):
//   transport only, 200 MiB as 64 KiB write() calls:
//     Deno.connect/listen + conn.read/conn.write (deno/transport.ts)   1933-3807 MiB/s
//     Deno's node:net (node/transport.ts)                               785-1347 MiB/s
//   transport only, 500 000 write() calls of 43 bytes:
//     native 2.9-6.0 M writes/s (queued small writes leave in one write op)
//     node:net 0.36-0.51 M writes/s
//   the engine (Chirp) with 43-byte messages between two nodes:
//     synchronous, 20 000 messages:    native 650-673 ms,  node:net 707-767 ms
//     asynchronous, 200 000 messages:  native 749 ms,      node:net 1041 ms
//   raw Deno, 200 MiB: conn.read/conn.write 1677-2725 MiB/s, conn.readable/writable streams
//     823-1136 MiB/s (so the adapter uses the ops, not the streams).
//   (Node 20's node:net for reference: 751-1324 MiB/s, 0.33-0.45 M writes/s; Chirp 713 ms sync,
//   765 ms async.)
// So Deno uses its native API.
//
// Limits (see deno/transport.ts): Deno.listen has no ipv6Only option; a "::" listener is dual-stack
// on Linux. The transport shares one dual-stack socket between the engine's 0.0.0.0 and "::"
// listeners of a port, so both start and each gets its own family's clients. setKeepAlive takes
// no idle time in Deno: the kernel default (7200 s on Linux) applies, not libchirp's 60 s.
import { setDefaultTransport } from "../chirp.ts";
import { denoTransport } from "./transport.ts";

export * from "../mod.ts";
export { denoTransport };

setDefaultTransport(denoTransport);

/** Which entry point of the package was loaded (the export conditions pick it per runtime). */
export const entryPoint = "deno";

// Bun entry point: the Transport (transport.ts) on Bun's native TCP API (bun/transport.ts),
// registered as the default.
//
// Native API or node:net? Measured on Bun 1.4.5 (2-core machine, 127.0.0.1, both ends in one
// process, three runs each; ranges, since runs vary a lot on this machine):
//   transport only, 200 MiB as 64 KiB write() calls:
//     Bun.connect/listen socket handlers (bun/transport.ts)   1316-1469 MiB/s
//     Bun's node:net (node/transport.ts)                      1136-1482 MiB/s
//   transport only, 500 000 write() calls of 43 bytes:
//     native 6.0-10.9 M writes/s (small writes of one tick leave in one send)
//     node:net 0.55-0.64 M writes/s
//   the engine (Chirp) with 43-byte messages between two nodes:
//     synchronous, 20 000 messages:    native 460-472 ms,  node:net 479-487 ms
//     asynchronous, 200 000 messages:  native 246-340 ms,  node:net 269-409 ms (a tie)
//   (Node 20's node:net for reference: 751-1324 MiB/s, 0.33-0.45 M writes/s; Chirp 713 ms sync,
//   765 ms async.)
// So Bun uses its native API: never slower, much faster for many small writes.
//
// Limits (see bun/transport.ts): Bun.listen takes no backlog, so ListenOptions.backlog is not applied.
import { setDefaultTransport } from "../chirp.ts";
import { bunTransport } from "./transport.ts";

export * from "../mod.ts";
export { bunTransport };

setDefaultTransport(bunTransport);

/** Which entry point of the package was loaded (the export conditions pick it per runtime). */
export const entryPoint = "bun";

// Node entry point: the Transport (transport.ts) on node:net (node/transport.ts), registered as the
// default. Only node/ and tls/ import node:net and node:tls.
import { setDefaultTransport } from "../chirp.ts";
import { nodeTransport } from "./transport.ts";

export * from "../mod.ts";
export { nodeTransport };

setDefaultTransport(nodeTransport);

/** Which entry point of the package was loaded (the export conditions pick it per runtime). */
export const entryPoint = "node";

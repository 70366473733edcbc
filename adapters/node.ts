// Node entry point: the Transport (transport.ts) on node:net (node-net.ts), registered as the
// default. Only node-net.ts imports node:* modules.
import { setDefaultTransport } from "./chirp.ts";
import { nodeTransport } from "./node-net.ts";

export * from "./mod.ts";
export { nodeTransport };

setDefaultTransport(nodeTransport);

/** Which entry point of the package was loaded (the export conditions pick it per runtime). */
export const entryPoint = "node";

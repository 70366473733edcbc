// Request/reply: a responder node answers, a requester node asks.
import { Chirp } from "chirp-wasm";
import { request, responder } from "chirp-wasm/patterns";

// The responder: the handler's (possibly async) return value is the reply. It releases each
// request before replying, as a synchronous peer needs (protocol.md §10.2).
const server = await Chirp.start({
  port: 0,
  onMessage: responder(async (req) => req.text().toUpperCase()),
});

// The requester: started without onMessage, so the patterns read its messages.
const client = await Chirp.start({ port: 0 });
const to = `127.0.0.1:${server.port}`;

const reply = await request(client, to, "hello");
console.log(reply.text());

// Deadline in seconds (default: the node's config.timeout) and an AbortSignal.
try {
  await request(client, to, "never sent", { timeout: 2, signal: AbortSignal.abort() });
} catch (e) {
  console.log((e as Error).name);
}

await client.close();
await server.close();

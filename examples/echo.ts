// An echo node: replies to every message with the same data, then releases it.
// Usage: node build/js/examples/echo.js [port] [async]
import { Chirp } from "../adapters/index.ts";

const port = Number(process.argv[2] ?? 2998);
const synchronous = process.argv[3] !== "async";
const node = await Chirp.start({
  port,
  synchronous,
  onMessage(msg) {
    // Release first: a synchronous peer has one slot and reads our reply only once it has
    // its ACK (protocol.md §10.2). The reply goes back over the connection the message came in on.
    msg.release();
    msg.reply(msg.data, { header: msg.header }).catch((e) => console.error("echo: reply failed:", e.message));
  },
});
console.log(`echo: listening on ${node.port} (${synchronous ? "synchronous" : "asynchronous"})`);
process.stdin.resume();
const stop = (): void => void node.close().then(() => process.exit(0));
process.stdin.on("end", stop);
process.on("SIGTERM", stop);
process.on("SIGINT", stop);

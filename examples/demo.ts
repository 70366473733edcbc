// The demo: two Chirp nodes in two processes on the default settings (synchronous mode,
// 5 s timeout). An echo node listens on the default port 2998 in a child process; this
// process listens on 2999, sends messages to it and prints the replies and a round-trip rate.
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { Chirp, type Message } from "../adapters/index.ts";

const echoScript = fileURLToPath(new URL("./echo.js", import.meta.url));
const echo = spawn(process.execPath, [echoScript], { stdio: ["pipe", "pipe", "inherit"] });
await new Promise<void>((resolve, reject) => {
  echo.stdout.once("data", (d: Buffer) => {
    process.stdout.write(d);
    resolve();
  });
  echo.once("exit", (code) => reject(new Error(`echo node exited with ${code}`)));
});

const replies = new Map<string, (m: Message) => void>();
const hex = (id: Uint8Array): string => Array.from(id, (b) => b.toString(16).padStart(2, "0")).join("");
const node = await Chirp.start({
  port: 2999,
  onMessage(msg) {
    msg.release();
    replies.get(hex(msg.identity))?.(msg);
  },
});
console.log(`demo: node ${hex(node.identity)} listening on ${node.port}`);

/** Sends and waits for the reply that carries the same identity (protocol.md §2.5). */
async function request(text: string): Promise<Message> {
  const identity = crypto.getRandomValues(new Uint8Array(16));
  const reply = new Promise<Message>((resolve) => replies.set(hex(identity), resolve));
  await node.send("127.0.0.1:2998", text, { identity });
  const msg = await reply;
  replies.delete(hex(identity));
  return msg;
}

for (const word of ["hello", "chirp", "from", "node"]) {
  const r = await request(word);
  console.log(`demo: sent "${word}", reply "${r.text()}" from ${r.address}:${r.port} (serial ${r.serial})`);
}
const n = 2000;
const t0 = performance.now();
for (let i = 0; i < n; i++) await request(`message ${i}`);
const s = (performance.now() - t0) / 1000;
console.log(`demo: ${n} synchronous request/replies in ${s.toFixed(2)} s: ${Math.round(n / s)} round trips/s`);

await node.close();
echo.stdin.end();
await new Promise((r) => echo.once("exit", r));
console.log("demo: both nodes closed cleanly");

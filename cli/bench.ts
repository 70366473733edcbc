// chirpcat bench HOST:PORT: sends --count messages (default 10000) of --size bytes (default
// 64) to any node (e.g. `chirpcat listen --quiet`), keeping a window of sends in flight, and
// prints one summary line on stdout: messages/s and MB/s (10^6 bytes of payload). On a
// terminal, stderr shows a progress bar meanwhile.
import process from "node:process";
import type { Chirp } from "../adapters/index.ts";
import { EXIT, UsageError } from "./options.ts";
import type { Ctx } from "./context.ts";
import { exitCodeOf } from "./io.ts";

/** Sends in flight at once: the engine queues them and writes what the mode allows (one at a
 * time waiting for its ACK in sync mode, batches in async mode). */
const WINDOW = 1024;

function bar(done: number, total: number, elapsedS: number): string {
  const width = 30;
  const full = Math.round((done / total) * width);
  const rate = elapsedS > 0 ? done / elapsedS : 0;
  return `\r[${"#".repeat(full)}${".".repeat(width - full)}] ${String(Math.floor((done / total) * 100)).padStart(3)}% ${done}/${total} ${Math.round(rate)} msg/s\x1b[K`;
}

export async function runBench(ctx: Ctx, node: Chirp, to: string): Promise<number> {
  const v = ctx.values;
  const total = v.count === undefined ? 10000 : Number(v.count);
  const size = v.size === undefined ? 64 : Number(v.size);
  if (!Number.isInteger(total) || total < 1) throw new UsageError(`--count ${String(v.count)}: bench sends 1 or more messages`);
  if (!Number.isInteger(size) || size < 0 || size > 64 * 1024 * 1024) throw new UsageError(`--size ${String(v.size)}: expected bytes from 0 to 67108864`);
  const data = new Uint8Array(size).map((_, i) => (i * 31 + 7) & 0xff);
  const progress = process.stderr.isTTY === true && !v.quiet;
  const t0 = performance.now();
  let sent = 0;
  let done = 0;
  let failure: unknown;
  const timer = progress ? setInterval(() => process.stderr.write(bar(done, total, (performance.now() - t0) / 1000)), 100) : undefined;
  await new Promise<void>((resolve) => {
    const next = (): void => {
      while (failure === undefined && !ctx.isStopped() && sent < total && sent - done < WINDOW) {
        sent++;
        node.send(to, data).then(() => {
          done++;
          if (done === total) resolve();
          else next();
        }, (e) => {
          failure ??= e;
          resolve();
        });
      }
    };
    void ctx.stopped.then(() => resolve());
    next();
  });
  const seconds = (performance.now() - t0) / 1000;
  if (timer) {
    clearInterval(timer);
    process.stderr.write(bar(done, total, seconds) + "\n");
  }
  if (failure !== undefined) {
    ctx.out.err(`error: after ${done} of ${total} messages: ${(failure as Error).message}`);
    return exitCodeOf(failure);
  }
  const mode = node.config.synchronous ? "sync" : "async";
  const perS = done / seconds;
  ctx.out.write(`bench: ${done} messages of ${size} bytes to ${to} in ${seconds.toFixed(3)} s (${mode}): ${Math.round(perS)} msgs/s, ${((perS * size) / 1e6).toFixed(2)} MB/s\n`);
  return EXIT.OK;
}

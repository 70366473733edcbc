// What one chirpcat run hands its command: the parsed options and targets, the message
// format, the output and the stop signal (made by main() in cli/main.ts, used by every
// command, cli/monitor.ts and cli/bench.ts included).
import type { Command, MessageFormat, Parsed } from "./options.ts";
import type { Output } from "./io.ts";

export interface Ctx {
  command: Command;
  values: Parsed["values"];
  targets: string[];
  format: MessageFormat;
  out: Output;
  /** --metrics: where to serve the node's counters. */
  metrics?: { host: string; port: number };
  /** Senders: the messages to send (checked before the node starts). */
  messages?: () => AsyncGenerator<Uint8Array>;
  /** Resolves when SIGINT or SIGTERM asked us to stop. */
  stopped: Promise<void>;
  isStopped(): boolean;
}

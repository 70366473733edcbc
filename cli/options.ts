// chirpcat's command and option tables: the one source for the argument parser (node:util
// parseArgs), the --help text and the README's tables (test/chirpcat.test.ts checks that
// --help and the README list exactly what is here).
import { parseArgs } from "node:util";

export const COMMANDS = [
  { name: "listen", args: "", summary: "listen on --port and print every message that arrives" },
  { name: "send", args: "HOST:PORT", summary: "send --data, --file or --stdin lines (--count times, every --interval s)" },
  { name: "respond", args: "", summary: "listen and answer every request with --data/--file, or --echo it (prints the requests)" },
  { name: "request", args: "HOST:PORT", summary: "send requests (patterns' request/reply) and print each reply" },
  { name: "push", args: "HOST:PORT...", summary: "push work items to pull workers (pipeline, one-way), spread by free slots" },
  { name: "pull", args: "", summary: "listen as a pipeline worker and print every work item" },
  { name: "pub", args: "", summary: "listen for subscribers and publish --data under --topic (--count 0: until stopped)" },
  { name: "sub", args: "HOST:PORT...", summary: "subscribe to publishers for --topic prefixes (default all) and print what comes" },
  { name: "survey", args: "HOST:PORT...", summary: "ask respondents (survey pattern) and print each answer until --timeout" },
  { name: "respond-survey", args: "", summary: "listen and answer every survey with --data/--file, or --echo it" },
  { name: "monitor", args: "HOST:PORT", summary: "live view of the counters of a node started with --metrics, or of every node of a collector's --http (HTTP /stats)" },
  { name: "collect", args: "", summary: "run a collector: nodes report to --port (their --report), --http serves /metrics, /stats and a live dashboard" },
  { name: "bench", args: "HOST:PORT", summary: "throughput test: send --count messages of --size bytes, print msgs/s and MB/s" },
] as const;

export type Command = (typeof COMMANDS)[number]["name"];

/** The worker pool's commands (cli/pool.ts, cli/loadtest.ts): they parse their own options,
 * listed here as --help shows them (docs/pool.md). */
export const POOL_COMMANDS = [
  { name: "worker", usage: "--module FILE --join HOST:PORT [--threads N] [--concurrency N] [--prefetch N]", summary: "serve a module's exported functions as tasks on N threads (default: the CPUs) that join the worker pool at HOST:PORT; SIGINT/SIGTERM leave it" },
  { name: "loadtest", usage: "URL --rate N --duration S [--threads N] [--join-port P] [--concurrency N] [--timeout S] [--wait-workers N]", summary: "HTTP load test on a worker pool: its threads and joined workers (chirpcat worker) fire N GET requests/s for S s; prints a progress line, then requests/s and p50/p90/p99 latency" },
] as const;

const ALL = COMMANDS.map((c) => c.name) as Command[];
/** Commands that run a Chirp node. */
const NODE = ALL.filter((c) => c !== "monitor");
/** Commands that run an application node (the collector's node is asynchronous and sends nothing). */
const APP = NODE.filter((c) => c !== "collect");
/** Commands whose messages come from --data, --file or --stdin. */
export const SENDERS: Command[] = ["send", "request", "push", "pub", "survey"];
/** Commands that answer with --data, --file or --echo. */
const ANSWERERS: Command[] = ["respond", "respond-survey"];
/** Commands that print messages (and so take a --format). */
const PRINTERS: Command[] = ["listen", "respond", "request", "pull", "sub", "survey", "respond-survey"];

export const MESSAGE_FORMATS = ["raw", "ascii", "quoted", "hex", "json", "msgpack"] as const;
export type MessageFormat = (typeof MESSAGE_FORMATS)[number];
export const MONITOR_FORMATS = ["table", "json", "prometheus"] as const;
export type MonitorFormat = (typeof MONITOR_FORMATS)[number];

export interface OptionSpec {
  name: string;
  short?: string;
  type: "string" | "boolean";
  multiple?: boolean;
  /** Placeholder of the value in --help. */
  arg?: string;
  help: string;
  commands: readonly Command[];
}

export const OPTIONS: readonly OptionSpec[] = [
  // node
  { name: "port", short: "p", type: "string", arg: "PORT", commands: NODE, help: "listening port, 0 = any free one (default 2998 for listen, respond, pull, pub, respond-survey; 9000 for collect; else 0)" },
  { name: "sync", type: "boolean", commands: APP, help: "synchronous mode: a send completes when the receiver released the message (default)" },
  { name: "async", type: "boolean", commands: APP, help: "asynchronous mode: a send completes when written; 16 slots per connection" },
  { name: "timeout", short: "t", type: "string", arg: "S", commands: APP, help: "send timeout in seconds (0.1-1200, default 5); also the deadline of a request, subscription or survey" },
  { name: "encryption", type: "string", arg: "MODE", commands: NODE, help: "auto (TLS except to 127.0.0.1/::1, default), always (needs TLS files) or never" },
  { name: "tls-cert-chain", type: "string", arg: "FILE", commands: NODE, help: "PEM with private key, certificate and CA certificate(s) (libchirp's CERT_CHAIN_PEM)" },
  { name: "tls-key", type: "string", arg: "FILE", commands: NODE, help: "PEM private key (with --tls-cert, instead of --tls-cert-chain)" },
  { name: "tls-cert", type: "string", arg: "FILE", commands: NODE, help: "PEM certificate, then intermediates" },
  { name: "tls-ca", type: "string", arg: "FILE", commands: NODE, help: "PEM CA certificate(s) to trust" },
  { name: "tls-dh-params", type: "string", arg: "FILE", commands: NODE, help: "PEM DH parameters for TLS 1.2 DHE peers (libchirp on LibreSSL)" },
  { name: "metrics", short: "m", type: "string", arg: "[HOST:]PORT", commands: APP, help: "serve this node's counters over HTTP (/metrics Prometheus, /stats JSON) for chirpcat monitor; host default 127.0.0.1" },
  { name: "report", short: "r", type: "string", arg: "HOST:PORT", commands: APP, help: "report this node's counters to the collector at HOST:PORT (chirpcat collect) every --report-every seconds" },
  { name: "report-every", type: "string", arg: "S", commands: APP, help: "seconds between two reports (0.05-3600, default 1); the collector marks a node down after 3 missed" },
  { name: "name", type: "string", arg: "NAME", commands: APP, help: "the name this node reports under (default: its address and port as the collector sees them)" },
  { name: "http", type: "string", arg: "[HOST:]PORT", commands: ["collect"], help: "serve the collector's dashboard (/), /metrics (every node, labelled node=...) and /stats over HTTP; host default 127.0.0.1" },
  // what to send
  { name: "data", short: "d", type: "string", arg: "DATA", commands: [...SENDERS, ...ANSWERERS], help: "the message (or answer), read according to --format: hex digits for hex, JSON text for json and msgpack, C escapes for quoted" },
  { name: "file", short: "f", type: "string", arg: "FILE", commands: [...SENDERS, ...ANSWERERS], help: "the message (or answer) is the content of FILE, read according to --format" },
  { name: "stdin", type: "boolean", commands: SENDERS, help: "one message per line of standard input, until its end" },
  { name: "echo", type: "boolean", commands: ANSWERERS, help: "answer with the data and header of what came" },
  { name: "header", short: "H", type: "string", arg: "TEXT", commands: [...SENDERS, ...ANSWERERS], help: "application header of each message (UTF-8)" },
  { name: "topic", short: "T", type: "string", multiple: true, arg: "TOPIC", commands: ["pub", "sub"], help: "pub: the topic to publish under (default empty); sub: a topic prefix to subscribe to, repeatable (default: everything)" },
  { name: "count", short: "n", type: "string", arg: "N", commands: ALL, help: "senders: messages to send (default 1, --stdin: every line, 0 = no end); receivers: exit after N messages (default: no end); monitor: snapshots; bench: messages (default 10000); collect: exit after N reports" },
  { name: "interval", short: "i", type: "string", arg: "S", commands: [...SENDERS, "monitor"], help: "seconds between two messages (default 0), or between two monitor snapshots (default 1)" },
  { name: "size", short: "s", type: "string", arg: "BYTES", commands: ["bench"], help: "bench message size in bytes (default 64)" },
  // output
  { name: "format", short: "F", type: "string", arg: "FMT", commands: [...PRINTERS, "send", "push", "pub", "monitor"], help: `messages: ${MESSAGE_FORMATS.join(", ")} (default ascii); monitor: ${MONITOR_FORMATS.join(", ")} (default table)` },
  { name: "once", type: "boolean", commands: ["monitor"], help: "print one snapshot and exit" },
  { name: "quiet", short: "q", type: "boolean", commands: ALL, help: "print no messages and no status lines (errors still go to stderr)" },
  { name: "verbose", short: "v", type: "boolean", commands: ALL, help: "also print connection events (open, close, peer restarts) and send reports to stderr" },
  { name: "help", short: "h", type: "boolean", commands: ALL, help: "print this help and exit" },
  { name: "version", short: "V", type: "boolean", commands: ALL, help: "print the version and exit" },
];

/** Exit codes, documented in --help and README.md. */
export const EXIT = {
  OK: 0,
  ERROR: 1,
  USAGE: 2,
  CANNOT_CONNECT: 3,
  TIMEOUT: 4,
  CANNOT_LISTEN: 5,
} as const;

export const EXIT_HELP: [number, string][] = [
  [EXIT.OK, "done (also after SIGINT or SIGTERM: the node is closed gracefully)"],
  [EXIT.ERROR, "a runtime error: a send or reply failed (PROTOCOL_ERROR, TLS_ERROR, SHUTDOWN, ENOMEM, ...), a responder's error, a monitor that cannot parse the answer"],
  [EXIT.USAGE, "usage: unknown command or option, bad value, an option the command does not take, unreadable file, bad --data for --format"],
  [EXIT.CANNOT_CONNECT, "CANNOT_CONNECT: the peer refused the connection, or a target's host name does not resolve (monitor: the metrics address cannot be reached)"],
  [EXIT.TIMEOUT, "TIMEOUT: no ACK, reply, acknowledgement or handshake in time"],
  [EXIT.CANNOT_LISTEN, "EADDRINUSE: the port (or the --metrics or --http port) is taken"],
];

export class UsageError extends Error {
  override name = "UsageError";
}

export interface Parsed {
  command: Command | null;
  values: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
}

/** Parses argv (without the runtime and script): the command, then options and targets in
 * any order. Throws UsageError. */
export function parse(argv: string[]): Parsed {
  const options: Record<string, { type: "string" | "boolean"; short?: string; multiple?: boolean }> = {};
  for (const o of OPTIONS) options[o.name] = { type: o.type, ...(o.short ? { short: o.short } : {}), ...(o.multiple ? { multiple: true } : {}) };
  let r: ReturnType<typeof parseArgs>;
  try {
    r = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UsageError(parseError(e as Error & { code?: string }, argv));
  }
  const values = r.values as Parsed["values"];
  const [first, ...positionals] = r.positionals;
  if (first === undefined) return { command: null, values, positionals };
  const cmd = COMMANDS.find((c) => c.name === first);
  if (!cmd) throw new UsageError(`unknown command "${first}" (commands: ${ALL.join(", ")})`);
  const command = cmd.name as Command;
  if (!values.help && !values.version) {
    for (const name of Object.keys(values)) {
      const spec = OPTIONS.find((o) => o.name === name)!;
      if (!spec.commands.includes(command)) throw new UsageError(`option --${name} does not apply to "${command}" (see chirpcat --help)`);
    }
  }
  return { command, values, positionals };
}

/** Edit distance (insert, delete, substitute) between two option names. */
function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length];
}

/** The option parser's error as a sentence a person can act on: an unknown option with the
 * nearest known one, an option whose value looks like an option (e.g. --count -1). */
function parseError(e: Error & { code?: string }, argv: string[]): string {
  const quoted = /'([^']+)'/.exec(e.message)?.[1] ?? "";
  if (e.code === "ERR_PARSE_ARGS_UNKNOWN_OPTION") {
    const given = quoted.replace(/^-+/, "").split("=")[0];
    const near = OPTIONS.map((o) => ({ o, d: distance(given, o.name) })).sort((x, y) => x.d - y.d)[0];
    const hint = near && near.d <= Math.max(2, Math.floor(given.length / 3)) ? `; did you mean --${near.o.name}?` : "";
    return `unknown option ${quoted}${hint}`;
  }
  if (e.code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE") {
    const name = /--([a-z-]+)/.exec(e.message)?.[1];
    const i = argv.findIndex((a) => a === `--${name}` || OPTIONS.some((o) => o.name === name && o.short && a === `-${o.short}`));
    const next = i >= 0 ? argv[i + 1] : undefined;
    if (next !== undefined && next.startsWith("-")) return `--${name} ${next}: "${next}" reads as an option, not as the value of --${name}; write --${name}=${next} for a value that starts with "-"`;
    return `--${name} needs a value`;
  }
  return e.message.split("\n")[0];
}

const WIDTH = 100;

/** Words of `text` (and the unbreakable `tail`) in lines of at most `width` characters. */
function wrap(text: string, width: number, tail?: string): string[] {
  const out: string[] = [];
  let line = "";
  for (const w of [...text.split(" "), ...(tail ? [tail] : [])]) {
    if (line && line.length + 1 + w.length > width) {
      out.push(line);
      line = w;
    } else {
      line = line ? `${line} ${w}` : w;
    }
  }
  if (line) out.push(line);
  return out;
}

/** Which commands take an option, as --help and the README say it. */
export function commandsOf(o: OptionSpec): string {
  if (o.commands.length === ALL.length) return "all";
  if (o.commands.length === NODE.length && !o.commands.includes("monitor")) return "all but monitor";
  if (o.commands.length === APP.length && !o.commands.includes("monitor") && !o.commands.includes("collect")) return "all but monitor, collect";
  return o.commands.join(", ");
}

/** The --help text, made from the tables above. */
export function helpText(version: string): string {
  const lines: string[] = [];
  lines.push(`chirpcat ${version}: send, receive, serve and watch Chirp messages from the command line`);
  lines.push("");
  lines.push("Usage: chirpcat COMMAND [TARGET...] [OPTIONS]");
  lines.push("       npx chirpcat ...   deno run -A node_modules/chirp-wasm/bin/chirpcat.js ...   bun node_modules/chirp-wasm/bin/chirpcat.js ...");
  lines.push("");
  lines.push("Commands:");
  const cw = Math.max(...COMMANDS.map((c) => `${c.name} ${c.args}`.length));
  for (const c of COMMANDS) wrap(c.summary, WIDTH - cw - 4).forEach((t, i) => lines.push(`  ${(i === 0 ? `${c.name} ${c.args}` : "").padEnd(cw)}  ${t}`));
  lines.push("");
  lines.push("Worker pool commands (options of their own, docs/pool.md):");
  for (const c of POOL_COMMANDS) {
    wrap(`${c.name} ${c.usage}`, WIDTH - 2).forEach((t, i) => lines.push(`${i === 0 ? "  " : "      "}${t}`));
    wrap(c.summary, WIDTH - 6).forEach((t) => lines.push(`      ${t}`));
  }
  lines.push("");
  lines.push("Options (the commands each takes in brackets):");
  const label = (o: OptionSpec): string => `${o.short ? `-${o.short}, ` : "    "}--${o.name}${o.arg ? ` ${o.arg}` : ""}`;
  const ow = Math.max(...OPTIONS.map((o) => label(o).length));
  for (const o of OPTIONS) {
    const text = wrap(o.help, WIDTH - ow - 4, `[${commandsOf(o)}]`);
    text.forEach((t, i) => lines.push(`  ${(i === 0 ? label(o) : "").padEnd(ow)}  ${t}`));
  }
  lines.push("");
  lines.push("Formats: raw (bytes as they are, no separator), ascii (non-printable bytes as '.', one");
  lines.push("line each), quoted (a C-style escaped string in double quotes), hex (lowercase), json (one");
  lines.push("object a line: from, identity, node, header, data, and topic for sub; text as a string,");
  lines.push("other bytes as {\"hex\": ...}), msgpack (the data decoded from MessagePack, as a JSON line;");
  lines.push("--data is JSON, sent as MessagePack).");
  lines.push("");
  lines.push("Exit codes:");
  for (const [code, what] of EXIT_HELP) wrap(what, WIDTH - 7).forEach((t, i) => lines.push(`  ${i === 0 ? String(code).padStart(3) : "   "}  ${t}`));
  lines.push("");
  lines.push("Status lines (\"chirpcat: listening on port N\", \"chirpcat: metrics on http://...\") go to");
  lines.push("stderr, messages to stdout.");
  return lines.join("\n") + "\n";
}

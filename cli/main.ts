// chirpcat's commands (the program is cli/chirpcat.ts). One process runs one role: listen,
// send, respond, request, push, pull, pub, sub, survey, respond-survey (each a Chirp node),
// monitor (an HTTP client of a node's --metrics or a collector's --http, cli/monitor.ts),
// collect (the backchannel's collector, cli/collect.ts) or bench (cli/bench.ts). The
// library comes through its universal entry, so the same code picks each runtime's sockets.
// Options and commands: cli/options.ts; formats: cli/format.ts.
import process from "node:process";
import { readFileSync, existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Chirp, ChirpError, type ChirpConfig, type Message } from "../adapters/index.ts";
import { serveMetrics } from "../adapters/monitor/http.ts";
import { startReporting, type ReportOptions } from "../adapters/monitor/report.ts";
import {
  decodeHeader, publisher, puller, pusher, request, responder, respondent, routerOf, subscriber, surveyor, targetKey,
} from "../patterns/mod.ts";
import { EXIT, MESSAGE_FORMATS, SENDERS, UsageError, helpText, parse, type Command, type MessageFormat } from "./options.ts";
import { formatMessage, loadFormat, parseInput, type Received } from "./format.ts";
import { runMonitor } from "./monitor.ts";
import { runBench } from "./bench.ts";
import { hostPort, runCollect } from "./collect.ts";
import { Output, Reported, exitCodeOf, sleep } from "./io.ts";
import type { Ctx } from "./context.ts";

/** The package version (package.json next to cli/, or three levels up from build/js/cli/). */
function version(): string {
  for (const rel of ["../package.json", "../../../package.json"]) {
    const p = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(p)) {
      const pkg = JSON.parse(readFileSync(p, "utf8")) as { name?: string; version?: string };
      if (pkg.name === "chirp-wasm") return pkg.version ?? "?";
    }
  }
  return "?";
}

/** Commands whose node listens on 2998 unless --port says otherwise (the others take any port). */
const LISTENERS: Command[] = ["listen", "respond", "pull", "pub", "respond-survey"];

function num(v: unknown, name: string, min: number, max: number, integer = false): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (typeof v !== "string" || v.trim() === "" || !Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n))) {
    throw new UsageError(`--${name} ${String(v)}: expected ${integer ? "an integer" : "a number"} from ${min} to ${max}`);
  }
  return n;
}

function readFile(path: string, what: string): Uint8Array {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new UsageError(`${what} ${path}: ${(e as Error).message}`);
  }
}

function checkTarget(t: string): string {
  if (!/^(\[[^\]]+\]|[^:\s]+):\d+$/.test(t)) throw new UsageError(`target "${t}" is not HOST:PORT (or [IPv6]:PORT)`);
  return t;
}

/** Node config from the options (TLS files are read here). */
function nodeConfig(ctx: Ctx): ChirpConfig {
  const v = ctx.values;
  if (v.sync && v.async) throw new UsageError("--sync and --async exclude each other");
  const cfg: ChirpConfig = {
    port: num(v.port, "port", 0, 65535, true) ?? (LISTENERS.includes(ctx.command) ? 2998 : ctx.command === "collect" ? 9000 : 0),
  };
  if (v.async) cfg.synchronous = false;
  const timeout = num(v.timeout, "timeout", 0.1, 1200);
  if (timeout !== undefined) cfg.timeout = timeout;
  if (v.encryption !== undefined) {
    if (!["auto", "always", "never"].includes(v.encryption as string)) throw new UsageError(`--encryption ${String(v.encryption)}: expected auto, always or never`);
    cfg.encryption = v.encryption as ChirpConfig["encryption"];
  }
  const tls: NonNullable<ChirpConfig["tls"]> = {};
  const files: [string, keyof typeof tls][] = [["tls-cert-chain", "certChain"], ["tls-key", "key"], ["tls-cert", "cert"], ["tls-ca", "ca"], ["tls-dh-params", "dhParams"]];
  for (const [opt, field] of files) if (typeof v[opt] === "string") tls[field] = readFile(v[opt] as string, `--${opt}`);
  if (Object.keys(tls).length > 0) cfg.tls = tls;
  if (cfg.encryption === "always" && !tls.certChain && !(tls.key && tls.cert)) {
    throw new UsageError("--encryption always needs TLS files: --tls-cert-chain FILE (key, certificate and CA in one PEM), or --tls-key FILE with --tls-cert FILE");
  }
  if (v.verbose) cfg.onError = (e) => ctx.out.err(`error: ${(e as Error).message}`);
  return cfg;
}

/** The messages a sender sends: --data or --file (--count times, default 1, 0 = no end) or
 * the lines of stdin (at most --count); none of them: one empty message. The options are
 * checked (and --data/--file read) at once, the messages made as they are taken. */
function payloads(ctx: Ctx): () => AsyncGenerator<Uint8Array> {
  const v = ctx.values;
  const sources = ["data", "file", "stdin"].filter((k) => v[k] !== undefined && v[k] !== false);
  if (sources.length > 1) throw new UsageError(`--${sources.join(" and --")} exclude each other`);
  const count = num(v.count, "count", 0, Number.MAX_SAFE_INTEGER, true);
  if (v.stdin) {
    return async function* () {
      let n = 0;
      for await (const line of stdinLines()) {
        if (ctx.isStopped()) return;
        yield parseInput(ctx.format, line, "a line of stdin");
        if (count !== undefined && count > 0 && ++n >= count) return;
      }
    };
  }
  const one = v.data !== undefined ? parseInput(ctx.format, v.data as string, "--data")
    : v.file !== undefined ? parseInput(ctx.format, readFile(v.file as string, "--file"), `--file ${String(v.file)}`)
    : new Uint8Array(0);
  const total = count ?? 1;
  return async function* () {
    for (let i = 0; total === 0 || i < total; i++) {
      if (ctx.isStopped()) return;
      yield one;
    }
  };
}

/** Lines of stdin (bytes, without the "\n" or "\r\n"); a last line without "\n" counts. */
async function* stdinLines(): AsyncGenerator<Uint8Array> {
  let buf = new Uint8Array(0);
  for await (const chunk of process.stdin as AsyncIterable<Uint8Array | string>) {
    const c = typeof chunk === "string" ? new TextEncoder().encode(chunk) : chunk;
    const joined = new Uint8Array(buf.length + c.length);
    joined.set(buf);
    joined.set(c, buf.length);
    let start = 0;
    for (let i = 0; i < joined.length; i++) {
      if (joined[i] === 10) {
        const end = i > start && joined[i - 1] === 13 ? i - 1 : i;
        yield joined.slice(start, end);
        start = i + 1;
      }
    }
    buf = joined.slice(start);
  }
  if (buf.length > 0) yield buf;
}

/** The answer of respond and respond-survey: --data/--file, --echo, or empty. */
function answerOf(ctx: Ctx): (msg: Message, header: Uint8Array) => { data: Uint8Array; header: Uint8Array } {
  const v = ctx.values;
  const set = ["data", "file", "echo"].filter((k) => v[k] !== undefined && v[k] !== false);
  if (set.length > 1) throw new UsageError(`--${set.join(" and --")} exclude each other`);
  if (v.echo) return (msg, header) => ({ data: msg.data, header });
  const data = v.data !== undefined ? parseInput(ctx.format, v.data as string, "--data")
    : v.file !== undefined ? parseInput(ctx.format, readFile(v.file as string, "--file"), `--file ${String(v.file)}`)
    : new Uint8Array(0);
  const header = new TextEncoder().encode((v.header as string | undefined) ?? "");
  return () => ({ data, header });
}

/** Prints a received message (or its formatting error) unless --quiet. */
function show(ctx: Ctx, msg: Message, header: Uint8Array, topic?: string): void {
  if (ctx.values.quiet) return;
  const r: Received = { from: targetKey(msg.address, msg.port), identity: msg.identity, node: msg.remoteIdentity, header, data: msg.data, topic };
  try {
    ctx.out.write(formatMessage(ctx.format, r));
  } catch (e) {
    ctx.out.err(`error: ${(e as Error).message}`);
  }
}

/** Counts received messages; `done` resolves at --count (never without one) or on a signal. */
function counter(ctx: Ctx): { hit(): void; done: Promise<void> } {
  const limit = num(ctx.values.count, "count", 0, Number.MAX_SAFE_INTEGER, true) ?? 0;
  let n = 0;
  let reached!: () => void;
  const done = new Promise<void>((r) => (reached = r));
  return {
    hit() {
      if (limit > 0 && ++n === limit) reached();
    },
    done: Promise.race([done, ctx.stopped]),
  };
}

/** Waits until the node has nothing queued or waiting for an ACK (at most `ms`), then a
 * moment more, so that the last reply or ACK leaves before the node closes. */
async function drain(node: Chirp, ms: number): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    const s = node.stats();
    if ((s.queued === 0 && s.unacked === 0) || Date.now() > end) break;
    await sleep(10);
  }
  await sleep(50);
}

/** Sends every payload with `each`, --interval seconds apart. A signal ends the wait for the
 * next message (a stdin line), the interval or a send (which the closing node then fails). */
async function sendAll(ctx: Ctx, each: (data: Uint8Array, header: string | undefined) => Promise<void>): Promise<void> {
  const interval = num(ctx.values.interval, "interval", 0, 86400) ?? 0;
  const header = ctx.values.header as string | undefined;
  const stopped = ctx.stopped.then(() => null);
  const it = ctx.messages!();
  for (let i = 0; ; i++) {
    const next = await Promise.race([it.next(), stopped]);
    if (next === null || next.done) return;
    if (i > 0 && interval > 0) {
      await Promise.race([sleep(interval * 1000), stopped]);
      if (ctx.isStopped()) return;
    }
    const sending = each(next.value, header);
    sending.catch(() => {}); // abandoned at a signal: its SHUTDOWN error is not news
    if ((await Promise.race([sending, stopped])) === null) return;
  }
}

function oneTarget(ctx: Ctx): string {
  if (ctx.targets.length !== 1) throw new UsageError(`${ctx.command} takes one HOST:PORT target (got ${ctx.targets.length})`);
  return ctx.targets[0];
}

function someTargets(ctx: Ctx): string[] {
  if (ctx.targets.length === 0) throw new UsageError(`${ctx.command} takes one or more HOST:PORT targets`);
  return ctx.targets;
}

function noTargets(ctx: Ctx): void {
  if (ctx.targets.length > 0) throw new UsageError(`${ctx.command} takes no target (got ${ctx.targets.join(" ")}); it listens on --port`);
}

/** Checks the command's arguments before a node starts (so usage errors come first). */
function checkArgs(ctx: Ctx): void {
  const c = ctx.command;
  if (["send", "request", "bench"].includes(c)) checkTarget(oneTarget(ctx));
  else if (["push", "sub", "survey"].includes(c)) someTargets(ctx).forEach(checkTarget);
  else noTargets(ctx);
  if (c === "pub" && ((ctx.values.topic as string[] | undefined)?.length ?? 0) > 1) throw new UsageError("pub publishes under one --topic");
  num(ctx.values.interval, "interval", 0, 86400);
  if (SENDERS.includes(c)) ctx.messages = payloads(ctx);
  if (ctx.values.metrics !== undefined) ctx.metrics = hostPort(ctx.values.metrics, "metrics");
}

/** --report, --report-every and --name: where and how often this node reports (or nothing). */
function reportOptions(ctx: Ctx): ReportOptions | undefined {
  const v = ctx.values;
  if (v.report === undefined) {
    if (v["report-every"] !== undefined || v.name !== undefined) throw new UsageError("--report-every and --name go with --report HOST:PORT");
    return undefined;
  }
  return {
    to: checkTarget(v.report as string),
    every: num(v["report-every"], "report-every", 0.05, 3600) ?? 1,
    ...(v.name !== undefined ? { name: v.name as string } : {}),
    ...(v.verbose ? { onError: (e: unknown) => ctx.out.err(`report failed: ${(e as Error).message}`) } : {}),
  };
}

/** Runs a node role; returns the exit code. */
async function runNode(ctx: Ctx): Promise<number> {
  await loadFormat(ctx.format);
  checkArgs(ctx);
  // Host names must resolve before the node listens.
  try {
    await Promise.all(ctx.targets.map((t) => Chirp.lookup(t)));
  } catch (e) {
    ctx.out.err((e as Error).message);
    return exitCodeOf(e);
  }
  const cfg = nodeConfig(ctx);
  const reporting = reportOptions(ctx);
  const v = ctx.values;
  const c = ctx.command;
  // Roles that take every message themselves get onMessage; the pattern roles that send
  // (request, push, pub, sub, survey) leave them to the pattern router (routerOf).
  let onMessage: ((m: Message) => void) | undefined;
  const got = counter(ctx);
  if (c === "listen") {
    onMessage = (m) => {
      show(ctx, m, m.header);
      m.release();
      got.hit();
    };
  } else if (c === "respond" || c === "pull" || c === "respond-survey") {
    // A pattern handler: it prints what it takes and answers (pull: one-way, no answer).
    const answer = c === "pull" ? () => undefined : answerOf(ctx);
    const take = (m: Message, header: Uint8Array): ReturnType<typeof answer> => {
      show(ctx, m, header);
      got.hit();
      return answer(m, header);
    };
    const onError = (e: unknown, m: Message): void => ctx.out.err(`error: answer to ${targetKey(m.address, m.port)} failed: ${(e as Error).message}`);
    const handler = c === "respond" ? responder(take, { onError }) : c === "pull" ? puller(take, { onError }) : respondent(take, { onError });
    onMessage = (m) => {
      if (handler(m) !== true) m.release(); // not for this role
    };
  } else if (c === "send" || c === "bench") {
    onMessage = (m) => m.release();
  }
  let node: Chirp;
  try {
    node = await Chirp.start({ ...cfg, ...(onMessage ? { onMessage } : {}) });
  } catch (e) {
    ctx.out.err((e as Error).message);
    return exitCodeOf(e);
  }
  const info = (s: string): void => {
    if (!v.quiet) ctx.out.err(s);
  };
  info(`listening on port ${node.port} (${node.config.synchronous ? "sync" : "async"})`);
  const unsubscribe: (() => void)[] = [];
  if (reporting) {
    unsubscribe.push(startReporting(node, reporting).stop);
    info(`reporting to ${reporting.to} every ${reporting.every} s`);
  }
  if (v.verbose) {
    unsubscribe.push(node.on("open", (e) => ctx.out.err(`open ${e.outgoing ? "to" : "from"} ${e.address}:${e.port} node ${e.identity}`)));
    unsubscribe.push(node.on("close", (e) => ctx.out.err(`close ${e.outgoing ? "to" : "from"} ${e.address}:${e.port}${e.code ? ` ${e.code}` : ""}: ${e.reason}`)));
    unsubscribe.push(node.on("identity", (e) => ctx.out.err(`peer ${e.address}:${e.port} restarted: node ${e.previous} is now ${e.current}`)));
  }
  let metrics: { port: number; close(): Promise<void> } | undefined;
  let code: number = EXIT.OK;
  try {
    if (ctx.metrics) {
      const { host, port } = ctx.metrics;
      metrics = await serveMetrics(node, { port, host });
      info(`metrics on http://${host.includes(":") ? `[${host}]` : host}:${metrics.port}/metrics and /stats`);
    }
    code = await runRole(ctx, node, got);
  } catch (e) {
    if (!(e instanceof Reported)) ctx.out.err((e as Error).message);
    code = exitCodeOf(e);
  } finally {
    for (const u of unsubscribe) u();
    await metrics?.close();
    await node.close();
  }
  return code;
}

async function runRole(ctx: Ctx, node: Chirp, got: { done: Promise<void> }): Promise<number> {
  const v = ctx.values;
  const c = ctx.command;
  const print = (m: Message, header: Uint8Array, topic?: string): void => show(ctx, m, header, topic);
  switch (c) {
    case "listen":
    case "respond":
    case "pull":
    case "respond-survey":
      await got.done;
      await drain(node, node.config.timeout * 1000);
      return EXIT.OK;
    case "send": {
      const to = checkTarget(oneTarget(ctx));
      await sendAll(ctx, async (data, header) => {
        await node.send(to, data, { header });
      });
      await drain(node, node.config.timeout * 1000);
      return EXIT.OK;
    }
    case "request": {
      const to = checkTarget(oneTarget(ctx));
      routerOf(node);
      await sendAll(ctx, async (data, header) => {
        const reply = await request(node, to, data, { header });
        print(reply, decodeHeader(reply.header)?.body ?? reply.header);
      });
      return EXIT.OK;
    }
    case "push": {
      const push = pusher(node, { workers: someTargets(ctx).map(checkTarget), results: false });
      await sendAll(ctx, async (data, header) => {
        const r = await push.push(data, { header });
        if (v.verbose) ctx.out.err(`pushed to ${r.worker} (attempt ${r.attempts})`);
      });
      await drain(node, node.config.timeout * 1000);
      return EXIT.OK;
    }
    case "pub": {
      const pub = publisher(node, {
        onSubscription: (s, prefix, on) => {
          if (!v.quiet) ctx.out.err(`${on ? "subscribed" : "unsubscribed"}: ${s} "${new TextDecoder().decode(prefix)}"`);
        },
      });
      const topic = (v.topic as string[] | undefined)?.[0] ?? "";
      await sendAll(ctx, async (data) => {
        const r = await pub.publish(topic, data);
        if (v.verbose) ctx.out.err(`published "${topic}" to ${r.delivered} subscriber(s)${r.failed.length ? `, ${r.failed.length} failed` : ""}`);
      });
      await drain(node, node.config.timeout * 1000);
      return EXIT.OK;
    }
    case "sub": {
      const got2 = counter(ctx);
      const sub = subscriber(node, (topic, m) => {
        print(m, new Uint8Array(0), topic);
        got2.hit();
      });
      const topics = (v.topic as string[] | undefined) ?? [""];
      for (const t of someTargets(ctx).map(checkTarget)) {
        for (const p of topics) {
          await sub.subscribe(t, p);
          if (!v.quiet) ctx.out.err(`subscribed to ${t} "${p}"`);
        }
      }
      await got2.done;
      await sub.close().catch(() => {});
      return EXIT.OK;
    }
    case "survey": {
      // Failed respondents are reported and the survey goes on; the exit code is the first
      // failure's, or the end comes at once when no respondent could be reached.
      const s = surveyor(node, { respondents: someTargets(ctx).map(checkTarget) });
      let firstFailure: unknown;
      await sendAll(ctx, async (data, header) => {
        const r = await s.survey(data, { header });
        for (const { message } of r.responses) print(message, decodeHeader(message.header)?.body ?? message.header);
        for (const f of r.failed) {
          ctx.out.err(`error: survey to ${f.respondent} failed: ${(f.error as Error).message}`);
          firstFailure ??= f.error;
        }
        if (v.verbose) ctx.out.err(`survey: ${r.responses.length} answer(s), ${r.missing.length} missing${r.missing.length ? ` (${r.missing.join(" ")})` : ""}`);
        if (r.failed.length === s.respondents.length) throw new Reported(exitCodeOf(firstFailure));
      });
      return firstFailure === undefined ? EXIT.OK : exitCodeOf(firstFailure);
    }
    case "bench":
      return runBench(ctx, node, checkTarget(oneTarget(ctx)));
    case "monitor":
    case "collect":
      throw new Error(`internal: ${c} is not an application node`);
  }
}

export async function main(argv: string[]): Promise<number> {
  const out = new Output();
  let stop!: () => void;
  let stoppedFlag = false;
  const stopped = new Promise<void>((r) => (stop = () => {
    stoppedFlag = true;
    r();
  }));
  try {
    const { command, values, positionals } = parse(argv);
    if (values.help) {
      out.write(helpText(version()));
      return EXIT.OK;
    }
    if (values.version) {
      out.write(`chirpcat ${version()}\n`);
      return EXIT.OK;
    }
    if (command === null) throw new UsageError("no command given");
    const format = (values.format as string | undefined) ?? (command === "monitor" ? "table" : "ascii");
    if (command !== "monitor" && !(MESSAGE_FORMATS as readonly string[]).includes(format)) {
      throw new UsageError(`--format ${format}: expected one of ${MESSAGE_FORMATS.join(", ")}`);
    }
    const onSignal = (): void => stop();
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
    const ctx: Ctx = { command, values, targets: positionals, format: format as MessageFormat, out, stopped, isStopped: () => stoppedFlag };
    if (command === "monitor") return await runMonitor(ctx, format);
    if (command === "collect") return await runCollect(ctx, nodeConfig(ctx));
    return await runNode(ctx);
  } catch (e) {
    if (e instanceof UsageError) {
      out.err(`${e.message}\nUsage: chirpcat COMMAND [TARGET...] [OPTIONS]; chirpcat --help lists them`);
      return EXIT.USAGE;
    }
    out.err(e instanceof ChirpError ? e.message : `error: ${(e as Error)?.stack ?? String(e)}`);
    return exitCodeOf(e);
  } finally {
    await out.flush();
  }
}

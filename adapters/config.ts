// Node configuration: defaults and validation, modelled on libchirp's ch_config_t (protocol.md §6).
// Every refusal is a ChirpError VALUE_ERROR that names the field and its allowed range.
import { ChirpError } from "./errors.ts";
import type { Message } from "./message.ts";
import type { EncryptionMode } from "./tls/policy.ts";
import type { TlsClientConfig } from "./transport.ts";

/** TLS material as PEM text (a string or its bytes); the library reads no files. */
export interface TlsConfig {
  /** libchirp's CERT_CHAIN_PEM layout: one PEM holding the private key, the node's
   * certificate and the CA certificate(s), in that order. Every certificate in it is also a
   * trust anchor (protocol.md §1.3). */
  certChain?: string | Uint8Array;
  /** Alternative to certChain: the private key (PEM). */
  key?: string | Uint8Array;
  /** Alternative to certChain: the node's certificate, then any intermediates (PEM). */
  cert?: string | Uint8Array;
  /** Trust anchors (PEM, one or more certificates). With certChain they are added to the
   * chain's certificates; with key/cert they replace the default (the certificates in cert). */
  ca?: string | Uint8Array;
  /** PEM DH parameters ("BEGIN DH PARAMETERS") for the TLS 1.2 DHE suites libchirp uses
   * (libchirp's DH_PARAMS_PEM); set on the TLS server side. */
  dhParams?: string | Uint8Array;
}

/** The options of `Chirp.start` (README "Configuration"); every field is optional. */
export interface ChirpConfig {
  /** Listening port and the port announced in the handshake (protocol.md §1.4). 1025..65535, or 0
   * to let the system pick a free one (read it back from `chirp.port`). Default 2998. */
  port?: number;
  /** Send/ACK timeout in seconds (protocol.md §4.3). 0.1..1200, default 5. The connect timeout is
   * min(2·timeout, 60). */
  timeout?: number;
  /** Idle time in seconds after which connections are collected (protocol.md §5.5). 0.5..3600,
   * default 30; the effective value is max(reuseTime, 3·timeout). */
  reuseTime?: number;
  /** Synchronous mode (default true): the receiver ACKs on release and `send` settles then. */
  synchronous?: boolean;
  /** Message slots per connection (protocol.md §3.2): 1..32. Synchronous mode uses `window`;
   * asynchronous defaults to 16. */
  maxSlots?: number;
  /** Synchronous mode: messages per remote that may wait for their ACK at once, 1..32 (default
   * 1, libchirp's behaviour). Each is still acknowledged on release and settles then; the node
   * also receives with as many slots. Use more than 1 only toward peers that have at least as
   * many slots (Chirp nodes with the same window) or that release a message before they send
   * to us: a one-slot peer that replies before it releases locks up until the timeout, and
   * libchirp loses ACKs of pipelined messages; after such a timeout the peer's window is 1
   * (protocol.md §4.7, §10.2, §10.9). */
  window?: number;
  /** Largest header+data accepted from a peer, in bytes: 1..4294967295, default 100 MiB. */
  maxMsgSize?: number;
  /** Largest header+data this node sends, in bytes: 1..4294967295, default `maxMsgSize` (a
   * node refuses, with VALUE_ERROR before sending, what it would not accept itself; raise it
   * to send larger messages to peers configured for them). */
  maxSendSize?: number;
  /** Read buffer size in bytes (protocol.md §3.3): 1024..16777216, default 65536. */
  bufferSize?: number;
  /** Memory for messages being received, all connections together, in bytes (protocol.md
   * §3.3): 1024..2^53-1, default max(256 MiB, 2·maxMsgSize). A message that spans reads
   * takes memory as its bytes arrive (a frame header alone costs nothing); a connection whose
   * message does not fit is closed with ENOMEM (reported to onError), the others carry on. */
  maxInFlightBytes?: number;
  /** Most connections open at once (incoming and outgoing): 1..65535, default 1024. */
  maxConnections?: number;
  /** Most remotes (distinct address:port peers) known at once: 1..65535, default 1024. */
  maxRemotes?: number;
  /** Most sends waiting to be written to one remote: 1..16777216, default 65536. A send
   * beyond it is refused at once with ENOMEM (bounds memory when a peer does not keep up). */
  maxQueued?: number;
  /** IPv4 bind address, default "0.0.0.0"; null: no IPv4 listener. */
  bindV4?: string | null;
  /** IPv6 bind address, default "::" (IPv6-only socket); null: no IPv6 listener. When the
   * host has no IPv6 the default is skipped quietly; an explicit address must bind. */
  bindV6?: string | null;
  /** Listen backlog, 1..127, default 100. */
  backlog?: number;
  /** 16-byte node identity (bytes or 32 hex digits); default random. All 16 bytes are used
   * (libchirp keeps only byte 0, protocol.md §10.8). */
  identity?: Uint8Array | string;
  /** Called for every received message. Without a handler, messages are delivered to async
   * iteration (`for await (const msg of chirp)`), each holding its slot until released. */
  onMessage?: (msg: Message) => void;
  /** Called with errors that concern no particular send (a peer's bad frame, a failed
   * accept, asynchronous sends that failed after they resolved). Default: ignored. */
  onError?: (err: Error) => void;
  /** Stops the node: aborted before `Chirp.start` resolves, start rejects with ABORTED and
   * nothing stays listening; aborted later, the node closes as `close()` does (draining). */
  signal?: AbortSignal;
  /** When connections use TLS (protocol.md §1.2). "auto" (default, libchirp's rule): every
   * connection whose peer address text is not exactly "127.0.0.1" or "::1" (for outgoing
   * connections the dialled address, for incoming ones the peer's source address).
   * "always": loopback too. "never": plaintext everywhere (libchirp DISABLE_ENCRYPTION). */
  encryption?: EncryptionMode;
  /** Certificates for TLS (PEM contents, not paths). Needed for every connection that
   * `encryption` makes TLS; required at start with encryption "always". */
  tls?: TlsConfig;
  /** Resolves host names in targets ("db.internal:2998") to addresses, tried in order until
   * one connects. Default: the runtime's resolver (getaddrinfo: /etc/hosts, then DNS). Set it
   * for DNS SRV, a service registry, or a Kubernetes headless service's several addresses. */
  resolve?: (host: string) => Promise<string[]>;
  /** Seconds a resolved name is used before it is looked up again (a service that moved is
   * reached at its new address after this long): 0..86400, default 30; 0: no cache. */
  resolveCacheTime?: number;
}

/** A config after validation, every default filled in (`node.config`); fields as in ChirpConfig. */
export interface ResolvedConfig {
  /** The listening port asked for (0: any; `node.port` is the one bound). */
  port: number;
  /** Send timeout in seconds. */
  timeout: number;
  /** Idle time before a connection closes, in seconds, as given. */
  reuseTime: number;
  /** Effective R in seconds = max(reuseTime, 3·timeout). */
  effectiveReuse: number;
  /** Synchronous mode: a send settles at the receiver's release. */
  synchronous: boolean;
  /** Message slots per connection. */
  maxSlots: number;
  /** Synchronous mode: unacknowledged messages per remote (1 in asynchronous mode). */
  window: number;
  /** Largest header + data accepted from a peer, in bytes. */
  maxMsgSize: number;
  /** Largest header + data a send may carry, in bytes. */
  maxSendSize: number;
  /** The core's read and write buffer size, in bytes. */
  bufferSize: number;
  /** Memory for messages being received, in bytes. */
  maxInFlightBytes: number;
  /** Connections open at once. */
  maxConnections: number;
  /** Distinct peers known at once. */
  maxRemotes: number;
  /** Sends waiting for one remote before more are refused (ENOMEM). */
  maxQueued: number;
  /** IPv4 listen address, or null: none. */
  bindV4: string | null;
  /** IPv6 listen address, or null: none. */
  bindV6: string | null;
  /** Whether bindV6 was given (a default "::" is skipped quietly without IPv6). */
  bindV6Explicit: boolean;
  /** Listen backlog. */
  backlog: number;
  /** The node identity (16 bytes). */
  identity: Uint8Array;
  /** Which connections use TLS. */
  encryption: EncryptionMode;
  /** The TLS material, split into key, certificate chain and trust anchors; null: none. */
  tls: TlsClientConfig | null;
  /** config.resolve, or null: the runtime's resolver. */
  resolve: ((host: string) => Promise<string[]>) | null;
  /** Seconds a resolved name is cached. */
  resolveCacheTime: number;
}

/** A value as the user wrote it: strings quoted, so that "5000" and 5000 look different. */
function shown(value: unknown): string {
  return typeof value === "string" ? JSON.stringify(value) : String(value);
}

function bad(field: string, value: unknown, range: string): never {
  const kind = typeof value === "string" ? " (a string)" : "";
  throw new ChirpError("VALUE_ERROR", `config.${field} = ${shown(value)}${kind} is not accepted: expected ${range}`);
}

function num(
  cfg: Record<string, unknown>, field: string, dflt: number, min: number, max: number,
  integer: boolean,
): number {
  const v = cfg[field];
  if (v === undefined) return dflt;
  const range = `${integer ? "an integer" : "a number"} from ${min} to ${max}`;
  if (typeof v === "string" && v.trim() !== "" && Number.isFinite(Number(v))) bad(field, v, `${range} as a number: write ${Number(v)} without quotes`);
  if (typeof v !== "number" || !Number.isFinite(v) || (integer && !Number.isInteger(v)) || v < min || v > max) {
    bad(field, v, range);
  }
  return v;
}

function parseIdentity(v: unknown): Uint8Array {
  if (v === undefined) return crypto.getRandomValues(new Uint8Array(16));
  if (v instanceof Uint8Array && v.length === 16) return v.slice();
  if (typeof v === "string" && /^[0-9a-fA-F]{32}$/.test(v)) {
    const out = new Uint8Array(16);
    for (let i = 0; i < 16; i++) out[i] = parseInt(v.slice(i * 2, i * 2 + 2), 16);
    return out;
  }
  bad("identity", v, "16 bytes (a Uint8Array of length 16 or 32 hex digits)");
}

export function resolveConfig(input: ChirpConfig = {}): ResolvedConfig {
  const cfg = input as Record<string, unknown>;
  const port = num(cfg, "port", 2998, 0, 65535, true);
  if (port !== 0 && port <= 1024) bad("port", port, "0 (any free port) or 1025 to 65535");
  const timeout = num(cfg, "timeout", 5, 0.1, 1200, false);
  const reuseTime = num(cfg, "reuseTime", 30, 0.5, 3600, false);
  const effectiveReuse = Math.max(reuseTime, 3 * timeout);
  if (effectiveReuse > 3600) bad("reuseTime", reuseTime, "max(reuseTime, 3·timeout) must be at most 3600");
  const sync = cfg.synchronous ?? true;
  if (typeof sync !== "boolean") bad("synchronous", sync, "true or false");
  let maxSlots: number;
  let window = 1;
  if (sync) {
    window = num(cfg, "window", 1, 1, 32, true);
    if (cfg.maxSlots !== undefined && cfg.maxSlots !== window) {
      bad("maxSlots", cfg.maxSlots, `${window} in synchronous mode (its window: the messages per remote that wait for their ACK at once; default 1); for up to 32 slots set window, or synchronous: false`);
    }
    maxSlots = window;
  } else {
    if (cfg.window !== undefined && cfg.window !== 1) bad("window", cfg.window, "1 in asynchronous mode (nothing is acknowledged); the window is for synchronous: true");
    maxSlots = num(cfg, "maxSlots", 16, 1, 32, true);
  }
  const maxMsgSize = num(cfg, "maxMsgSize", 100 * 1024 * 1024, 1, 0xffffffff, true);
  const maxSendSize = num(cfg, "maxSendSize", maxMsgSize, 1, 0xffffffff, true);
  const bufferSize = num(cfg, "bufferSize", 65536, 1024, 16 * 1024 * 1024, true);
  const maxInFlightBytes = num(cfg, "maxInFlightBytes", Math.max(256 * 1024 * 1024, 2 * maxMsgSize), 1024, Number.MAX_SAFE_INTEGER, true);
  const maxConnections = num(cfg, "maxConnections", 1024, 1, 65535, true);
  const maxRemotes = num(cfg, "maxRemotes", 1024, 1, 65535, true);
  const maxQueued = num(cfg, "maxQueued", 65536, 1, 16 * 1024 * 1024, true);
  const backlog = num(cfg, "backlog", 100, 1, 127, true);
  const bindV4 = cfg.bindV4 === undefined ? "0.0.0.0" : cfg.bindV4;
  if (bindV4 !== null && (typeof bindV4 !== "string" || !isIPv4(bindV4))) bad("bindV4", bindV4, "an IPv4 address or null");
  const bindV6 = cfg.bindV6 === undefined ? "::" : cfg.bindV6;
  if (bindV6 !== null && (typeof bindV6 !== "string" || !bindV6.includes(":"))) bad("bindV6", bindV6, "an IPv6 address or null");
  if (bindV4 === null && bindV6 === null) bad("bindV4", null, "at least one of bindV4 and bindV6 must be set");
  const resolveCacheTime = num(cfg, "resolveCacheTime", 30, 0, 86400, false);
  for (const f of ["onMessage", "onError", "resolve"]) {
    if (cfg[f] !== undefined && typeof cfg[f] !== "function") bad(f, cfg[f], "a function");
  }
  const signal = cfg.signal as AbortSignal | undefined;
  if (signal !== undefined && (typeof signal !== "object" || signal === null || typeof signal.aborted !== "boolean" || typeof signal.addEventListener !== "function")) {
    bad("signal", signal, "an AbortSignal");
  }
  const encryption = cfg.encryption ?? "auto";
  if (encryption !== "auto" && encryption !== "always" && encryption !== "never") {
    bad("encryption", encryption, '"auto", "always" or "never"');
  }
  const tls = parseTls(cfg.tls);
  if (encryption === "always" && tls === null) {
    throw new ChirpError("VALUE_ERROR", 'config.encryption = "always" needs TLS material: set config.tls to { certChain } (key, certificate and CA in one PEM) or { key, cert, ca }');
  }
  const known = new Set([
    "port", "timeout", "reuseTime", "synchronous", "window", "maxSlots", "maxMsgSize", "maxSendSize", "bufferSize", "maxInFlightBytes",
    "maxConnections", "maxRemotes", "maxQueued", "bindV4", "bindV6", "backlog", "identity", "onMessage", "onError",
    "encryption", "tls", "resolve", "resolveCacheTime", "signal",
  ]);
  for (const k of Object.keys(cfg)) {
    if (!known.has(k)) throw new ChirpError("VALUE_ERROR", `config.${k} is not a known option (known: ${[...known].join(", ")})`);
  }
  return {
    port, timeout, reuseTime, effectiveReuse, synchronous: sync, window, maxSlots, maxMsgSize, maxSendSize, bufferSize,
    maxInFlightBytes, maxConnections, maxRemotes, maxQueued, bindV4: bindV4 as string | null, bindV6: bindV6 as string | null,
    bindV6Explicit: cfg.bindV6 !== undefined, backlog, identity: parseIdentity(cfg.identity),
    encryption: encryption as EncryptionMode, tls, resolve: (cfg.resolve as ResolvedConfig["resolve"] | undefined) ?? null, resolveCacheTime,
  };
}

const decoder = new TextDecoder();

/** The PEM blocks of a text: [label, whole block]. */
function pemBlocks(text: string): [string, string][] {
  const out: [string, string][] = [];
  const re = /-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) out.push([m[1], m[0]]);
  return out;
}

function pemField(t: Record<string, unknown>, field: string): [string, string][] | undefined {
  const v = t[field];
  if (v === undefined) return undefined;
  if (typeof v !== "string" && !(v instanceof Uint8Array)) bad(`tls.${field}`, typeof v, "PEM text as a string or a Uint8Array");
  const blocks = pemBlocks(typeof v === "string" ? v : decoder.decode(v));
  if (blocks.length === 0) bad(`tls.${field}`, "(no PEM block)", "PEM text (-----BEGIN ...-----), not a file path");
  return blocks;
}

const isKey = (label: string): boolean => /PRIVATE KEY$/.test(label);
const isCert = (label: string): boolean => label === "CERTIFICATE" || label === "TRUSTED CERTIFICATE" || label === "X509 CERTIFICATE";

/** Splits the configured PEM material into what a TLS stack takes: one key, the certificate
 * chain (leaf first), the trust anchors and the DH parameters. */
function parseTls(v: unknown): TlsClientConfig | null {
  if (v === undefined || v === null) return null;
  if (typeof v !== "object") bad("tls", v, "an object { certChain } or { key, cert, ca }");
  const t = v as Record<string, unknown>;
  for (const k of Object.keys(t)) {
    if (!["certChain", "key", "cert", "ca", "dhParams"].includes(k)) bad(`tls.${k}`, t[k], "not a known option (certChain, key, cert, ca, dhParams)");
  }
  const chain = pemField(t, "certChain");
  const keyB = pemField(t, "key");
  const certB = pemField(t, "cert");
  const caB = pemField(t, "ca");
  const dhB = pemField(t, "dhParams");
  let keys: string[];
  let certs: string[];
  let anchors: string[];
  if (chain) {
    if (keyB || certB) bad("tls.certChain", "(with key/cert)", "either certChain or key and cert, not both");
    keys = chain.filter(([l]) => isKey(l)).map(([, b]) => b);
    certs = chain.filter(([l]) => isCert(l)).map(([, b]) => b);
    if (certs.length === 0) bad("tls.certChain", "(no CERTIFICATE block)", "key, certificate and CA certificate(s) in one PEM");
    anchors = [...certs];
  } else if (keyB || certB) {
    if (!keyB || !certB) bad(keyB ? "tls.cert" : "tls.key", "undefined", "key and cert go together");
    keys = keyB.filter(([l]) => isKey(l)).map(([, b]) => b);
    certs = certB.filter(([l]) => isCert(l)).map(([, b]) => b);
    if (certs.length === 0) bad("tls.cert", "(no CERTIFICATE block)", "a PEM certificate");
    anchors = caB ? [] : [...certs];
  } else {
    if (caB || dhB) bad("tls", "(ca/dhParams only)", "tls.certChain, or tls.key and tls.cert, are needed too");
    return null;
  }
  if (keys.length !== 1) bad(chain ? "tls.certChain" : "tls.key", `(${keys.length} private keys)`, "exactly one PEM private key");
  if (caB) {
    const extra = caB.filter(([l]) => isCert(l)).map(([, b]) => b);
    if (extra.length === 0) bad("tls.ca", "(no CERTIFICATE block)", "PEM CA certificate(s)");
    anchors.push(...extra);
  }
  let dhParams: string | undefined;
  if (dhB) {
    const p = dhB.find(([l]) => l === "DH PARAMETERS");
    if (!p) bad("tls.dhParams", "(no DH PARAMETERS block)", "PEM DH parameters (-----BEGIN DH PARAMETERS-----)");
    dhParams = p[1];
  }
  return { key: keys[0], cert: certs.join("\n"), ca: anchors, dhParams };
}

export function isIPv4(s: string): boolean {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  return m !== null && m.slice(1).every((p) => Number(p) <= 255);
}

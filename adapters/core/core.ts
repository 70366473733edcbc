// Loads the embedded core.wasm and gives it a typed face: the config record written from named
// fields (CoreSetup), the args record (peer address, message identity), the event record
// readers (generated EventRecords). Runtime-
// neutral: no I/O, no runtime imports. The ABI is assembly/ABI.md; its tables (codes, event
// layout, record offsets, export signatures) are generated into ./abi.ts.
import { CORE_WASM_BASE64 } from "./core-wasm.ts";
import { ARGS, CONFIG, EventRecords, type CoreExports } from "./abi.ts";

export { ARGS, CONFIG, CONN, EV, EVENT, K, PEER_FAULT, REMOTE, ST, type CoreExports } from "./abi.ts";


/** The config record's fields (assembly/abi.mjs `configRecord`). */
export interface CoreConfig {
  identity: Uint8Array;
  maxConns: number;
  maxRemotes: number;
  /** Synchronous mode uses `window` whatever this says (the core decides, protocol.md §6). */
  maxSlots: number;
  synchronous: boolean;
  /** Synchronous mode: unacknowledged messages per remote (protocol.md §4.7); 1 if absent. */
  window?: number;
  maxMsgSize: number;
  timeoutMs: number;
  /** REUSE_TIME in ms; the core uses R = max(reuseMs, 3·timeoutMs) (protocol.md §5.5). */
  reuseMs: number;
  bufSize: number;
  port: number;
}

let compiled: WebAssembly.Module | undefined;

/** The raw core module bytes (for other hosts, and for tests). */
export function coreWasmBytes(): Uint8Array {
  const bin = atob(CORE_WASM_BASE64);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return bytes;
}

function coreModule(): WebAssembly.Module {
  // Synchronous compile: no fetch, no top-level await, no file read.
  compiled ??= new WebAssembly.Module(coreWasmBytes() as BufferSource);
  return compiled;
}

/** Writes `address` (IPv4 dotted quad or IPv6 text) as 16 bytes, IPv4 mapped to ::ffff:a.b.c.d.
 * Returns false if it is neither. */
export function encodeAddress(address: string, out: Uint8Array, at: number): boolean {
  const v4 = (s: string, o: number): boolean => {
    const p = s.split(".");
    if (p.length !== 4) return false;
    for (let i = 0; i < 4; i++) {
      if (!/^\d{1,3}$/.test(p[i]) || Number(p[i]) > 255) return false;
      out[o + i] = Number(p[i]);
    }
    return true;
  };
  out.fill(0, at, at + 16);
  if (!address.includes(":")) {
    out[at + 10] = 0xff;
    out[at + 11] = 0xff;
    return v4(address, at + 12);
  }
  const a = address.replace(/^\[|\]$/g, "").replace(/%.*$/, "");
  const halves = a.split("::");
  if (halves.length > 2) return false;
  const words = (s: string): string[] => (s === "" ? [] : s.split(":"));
  const head = words(halves[0]);
  const tail = halves.length === 2 ? words(halves[1]) : [];
  const all = [...head, ...tail];
  const dotted = all.length > 0 && all[all.length - 1].includes(".");
  const n = all.length + (dotted ? 1 : 0);
  if (halves.length === 1 ? n !== 8 : n > 7) return false;
  const put = (list: string[], o: number): boolean => {
    for (const w of list) {
      if (w.includes(".")) {
        if (!v4(w, o)) return false;
        o += 4;
        continue;
      }
      if (!/^[0-9a-fA-F]{1,4}$/.test(w)) return false;
      const v = parseInt(w, 16);
      out[o] = v >> 8;
      out[o + 1] = v & 0xff;
      o += 2;
    }
    return true;
  };
  const tailBytes = 2 * tail.length + (dotted && tail.length ? 2 : 0);
  return put(head, at) && put(tail, at + 16 - tailBytes);
}

/** Writes the config record's fields at `p` (before configure). */
function writeConfigRecord(x: CoreExports, c: CoreConfig, seed?: Uint32Array): void {
  const p = x.configPtr();
  const dv = new DataView(x.memory.buffer);
  new Uint8Array(x.memory.buffer, p + CONFIG.IDENTITY, 16).set(c.identity.subarray(0, 16));
  const s = seed ?? crypto.getRandomValues(new Uint32Array(2));
  dv.setInt32(p + CONFIG.MAX_CONNS, c.maxConns, true);
  dv.setInt32(p + CONFIG.MAX_REMOTES, c.maxRemotes, true);
  dv.setInt32(p + CONFIG.MAX_SLOTS, c.maxSlots, true);
  dv.setInt32(p + CONFIG.SYNCHRONOUS, c.synchronous ? 1 : 0, true);
  dv.setInt32(p + CONFIG.WINDOW, c.window ?? 1, true);
  dv.setUint32(p + CONFIG.MAX_MSG_SIZE, c.maxMsgSize >>> 0, true);
  dv.setInt32(p + CONFIG.BUF_SIZE, c.bufSize, true);
  dv.setInt32(p + CONFIG.PORT, c.port, true);
  dv.setUint32(p + CONFIG.SEED_LO, s[0] >>> 0, true);
  dv.setUint32(p + CONFIG.SEED_HI, s[1] >>> 0, true);
  dv.setFloat64(p + CONFIG.TIMEOUT_MS, c.timeoutMs, true);
  dv.setFloat64(p + CONFIG.REUSE_MS, c.reuseMs, true);
}

/**
 * A core instance before `configure`: its config record is written (`writeConfig`) and can
 * already answer the connect timeout; `configure()` lays out its memory and gives the Core.
 */
export class CoreSetup {
  readonly x: CoreExports;
  constructor() {
    const instance = new WebAssembly.Instance(coreModule(), {});
    this.x = instance.exports as unknown as CoreExports;
  }

  /** Writes the config record (the seed: crypto-random unless given). */
  writeConfig(c: CoreConfig, seed?: Uint32Array): this {
    writeConfigRecord(this.x, c, seed);
    return this;
  }

  /** Sets the announced port in the config record. */
  setPort(port: number): this {
    new DataView(this.x.memory.buffer).setInt32(this.x.configPtr() + CONFIG.PORT, port, true);
    return this;
  }

  /** Lays out and grows the memory once; throws RangeError with the status if refused. */
  configure(): Core {
    const rc = this.x.configure();
    if (rc !== 0) throw new RangeError(`core.configure refused the config (status ${-rc})`);
    return new Core(this.x);
  }
}

/**
 * One configured instance of the core: one Chirp node's protocol state. Its memory never
 * grows, so the views and region addresses below stay valid. The event record readers
 * (evKind(i), evBytes(i), ...) are the generated EventRecords.
 */
export class Core extends EventRecords {
  readonly mem: Uint8Array;
  readonly inPtr: number;
  readonly inCap: number;
  readonly outPtr: number;
  readonly outCap: number;
  /** The args record: peer address at argsPtr + ARGS.ADDRESS, identity at idPtr. */
  readonly argsPtr: number;
  /** Where `send` takes the message identity from (the args record's identity field). */
  readonly idPtr: number;

  /** Use CoreSetup (or Core.configured): `x` must be configured. */
  constructor(readonly x: CoreExports) {
    super(new DataView(x.memory.buffer), x.evPtr());
    this.mem = new Uint8Array(x.memory.buffer);
    this.inPtr = x.inPtr();
    this.inCap = x.inCap();
    this.outPtr = x.outPtr();
    this.outCap = x.outCap();
    this.argsPtr = x.argsPtr();
    this.idPtr = this.argsPtr + ARGS.IDENTITY;
  }

  /** A configured core (throws RangeError if the core refuses the config). */
  static configured(config: CoreConfig, seed?: Uint32Array): Core {
    return new CoreSetup().writeConfig(config, seed).configure();
  }

  get memoryBytes(): number {
    return this.x.memory.buffer.byteLength;
  }

  /** Writes a peer address into the args record (for connAccept and remoteOpen). */
  setAddress(address: string): boolean {
    return encodeAddress(address, this.mem, this.argsPtr + ARGS.ADDRESS);
  }

  /** Copies the OUT bytes out of wasm memory and empties the OUT area. */
  takeOut(): Uint8Array {
    const n = this.x.outLen();
    const bytes = this.mem.slice(this.outPtr, this.outPtr + n);
    this.x.outReset();
    return bytes;
  }

  /** A copy of the event's 16-byte identity. */
  evIdentity(i: number): Uint8Array {
    const p = this.evIdentityAt(i);
    return this.mem.slice(p, p + 16);
  }
}

// Loads the embedded core.wasm and gives it a typed face. Runtime-neutral: no I/O, no runtime
// imports. The ABI (exports, regions, event records, status codes) is assembly/ABI.md.
import { CORE_WASM_BASE64 } from "./core-wasm.ts";

/** Event kinds (assembly/ABI.md, "Event records"). */
export const EV = {
  HANDSHAKE: 1,
  MSG: 2,
  BEGIN: 3,
  CHUNK: 4,
  END: 5,
  ACK: 6,
  ERROR: 7,
  TIMEOUT: 8,
  GC_REMOTE: 9,
  GC_CONN: 10,
  RETRY: 11,
  NOOP: 12,
} as const;

/** Status codes: protocol.md §4.4 numbering; the core returns them negated. */
export const ST = {
  SUCCESS: 0,
  VALUE_ERROR: 1,
  PROTOCOL_ERROR: 3,
  TIMEOUT: 9,
  ENOMEM: 10,
  SHUTDOWN: 11,
  BUSY: 16,
  EMPTY: 17,
  SPACE: 20,
} as const;

export const EV_SIZE = 64;

export interface CoreLimits {
  maxConns: number;
  maxRemotes: number;
  maxSlots: number;
  synchronous: boolean;
  maxMsgSize: number;
  timeoutMs: number;
  /** Effective R = max(reuseTime, 3·timeout), in ms (protocol.md §5.5). */
  reuseMs: number;
  bufSize: number;
  port: number;
  identity: Uint8Array;
}

interface Exports {
  memory: WebAssembly.Memory;
  identityPtr(): number;
  scratchPtr(): number;
  configure(
    maxConns: number, maxRemotes: number, maxSlots: number, sync: number, maxMsgSize: number,
    timeoutMs: number, reuseMs: number, bufSize: number, port: number, seedLo: number, seedHi: number,
  ): number;
  memoryBytes(): number;
  inPtr(): number;
  inCap(): number;
  outPtr(): number;
  outCap(): number;
  outLen(): number;
  outConn(): number;
  outReset(): void;
  evPtr(): number;
  evCount(): number;
  connOpen(outgoing: number, remote: number, now: number): number;
  connGen(conn: number): number;
  connState(conn: number): number;
  connRemote(conn: number): number;
  connPaused(conn: number): number;
  connAttach(conn: number, remote: number, now: number): number;
  connClose(conn: number, now: number): number;
  feed(conn: number, len: number, now: number): number;
  release(conn: number, gen: number, slot: number, now: number): number;
  flush(conn: number, now: number): number;
  dataFrame(conn: number, headerLen: number, dataLen: number, inline: number, now: number): number;
  writeStart(conn: number, now: number): void;
  writeDone(conn: number, idle: number, now: number): void;
  remoteAlloc(now: number): number;
  remoteFree(remote: number): void;
  remoteConn(remote: number): number;
  remoteWaiting(remote: number): number;
  remoteDebounce(remote: number, now: number): number;
  remoteWant(remote: number, want: number): void;
  remoteSerial(remote: number): number;
  tick(now: number): number;
  nextDeadline(): number;
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

/**
 * One instance of the core: one Chirp node's protocol state. After construction its memory
 * never grows, so the typed views below stay valid.
 */
export class Core {
  readonly x: Exports;
  readonly mem: Uint8Array;
  readonly dv: DataView;
  readonly inPtr: number;
  readonly inCap: number;
  readonly outPtr: number;
  readonly outCap: number;
  readonly evPtr: number;
  readonly scratchPtr: number;

  constructor(limits: CoreLimits, seed?: Uint32Array) {
    const instance = new WebAssembly.Instance(coreModule(), {});
    this.x = instance.exports as unknown as Exports;
    const idPtr = this.x.identityPtr();
    new Uint8Array(this.x.memory.buffer, idPtr, 16).set(limits.identity.subarray(0, 16));
    const s = seed ?? crypto.getRandomValues(new Uint32Array(2));
    const rc = this.x.configure(
      limits.maxConns, limits.maxRemotes, limits.maxSlots, limits.synchronous ? 1 : 0,
      limits.maxMsgSize >>> 0, limits.timeoutMs, limits.reuseMs, limits.bufSize, limits.port,
      s[0] | 0, s[1] | 0,
    );
    if (rc !== 0) throw new RangeError(`core.configure refused the limits (status ${-rc})`);
    this.mem = new Uint8Array(this.x.memory.buffer);
    this.dv = new DataView(this.x.memory.buffer);
    this.inPtr = this.x.inPtr();
    this.inCap = this.x.inCap();
    this.outPtr = this.x.outPtr();
    this.outCap = this.x.outCap();
    this.evPtr = this.x.evPtr();
    this.scratchPtr = this.x.scratchPtr();
  }

  get memoryBytes(): number {
    return this.x.memory.buffer.byteLength;
  }

  /** Copies the OUT bytes out of wasm memory and empties the OUT area. */
  takeOut(): Uint8Array {
    const n = this.x.outLen();
    const bytes = this.mem.slice(this.outPtr, this.outPtr + n);
    this.x.outReset();
    return bytes;
  }

  // Event record accessors (assembly/ABI.md, "Event records").
  evKind(i: number): number { return this.dv.getInt32(this.evPtr + i * EV_SIZE, true); }
  evConn(i: number): number { return this.dv.getInt32(this.evPtr + i * EV_SIZE + 4, true); }
  evSlot(i: number): number { return this.dv.getInt32(this.evPtr + i * EV_SIZE + 8, true); }
  evType(i: number): number { return this.dv.getInt32(this.evPtr + i * EV_SIZE + 12, true); }
  evSerial(i: number): number { return this.dv.getUint32(this.evPtr + i * EV_SIZE + 16, true); }
  evHeaderLen(i: number): number { return this.dv.getUint32(this.evPtr + i * EV_SIZE + 20, true); }
  evDataLen(i: number): number { return this.dv.getUint32(this.evPtr + i * EV_SIZE + 24, true); }
  evPtr1(i: number): number { return this.dv.getInt32(this.evPtr + i * EV_SIZE + 28, true); }
  evPtr2(i: number): number { return this.dv.getInt32(this.evPtr + i * EV_SIZE + 32, true); }
  evAux(i: number): number { return this.dv.getUint32(this.evPtr + i * EV_SIZE + 36, true); }
  evGen(i: number): number { return this.dv.getInt32(this.evPtr + i * EV_SIZE + 40, true); }
  evRemote(i: number): number { return this.dv.getInt32(this.evPtr + i * EV_SIZE + 44, true); }
  /** A copy of the event's 16-byte identity. */
  evIdentity(i: number): Uint8Array {
    const p = this.evPtr + i * EV_SIZE + 48;
    return this.mem.slice(p, p + 16);
  }
}

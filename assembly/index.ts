// Entry of the Chirp protocol core (core.wasm): the exported ABI of assembly/ABI.md, by kind.
// A sans-IO state machine for the libchirp 1.2 wire protocol (docs/protocol.md):
// it never does I/O, never reads a clock, imports nothing and never allocates after
// `configure`.
//
//   socket bytes ─► IN ─feed(conn,len,now)─► core ─► OUT ─► bytes to write
//                                             └──► EVENT records;  tick(now) / nextDeadline()
//
// Files: abi.ts (generated tables), globals.ts (config, layout, configure), prng.ts,
// records.ts (record fields and pointers), state.ts (every state transition), events.ts,
// reader.ts (feed), writer.ts (OUT: handshake, ACKs, send), commands.ts, timers.ts (tick).
import { CONN_FREE, E_STALE, REMOTE_FREE } from "./abi";
import { evCount } from "./events";
import {
  ARGS, CONFIG, configure, connectTimeoutOf, evBase, inBase, inCap, maxConns, memoryEnd,
  outBase, outCap,
} from "./globals";
import { C_GEN, C_PAUSED, C_REMOTE, C_STATE, R_CONN, R_DEBOUNCE, R_SERIAL, R_STATE, connPtr, liveConn, liveRemote } from "./records";
import { ackWaiting } from "./state";
import { outConn, outLen, outReset } from "./writer";

/** The `abort` of this module (asconfig `use`): trap, import nothing. */
// eslint-disable-next-line @typescript-eslint/no-unused-vars
function abortTrap(message: usize, fileName: usize, line: u32, column: u32): void {
  unreachable();
}

// ── setup and regions ──────────────────────────────────────────────────────────────────────
export { configure };
export function configPtr(): i32 { return <i32>CONFIG; }
export function connectTimeout(): f64 { return connectTimeoutOf(); }
export function memoryBytes(): i32 { return <i32>memoryEnd; }
export function argsPtr(): i32 { return <i32>ARGS; }
export function inPtr(): i32 { return <i32>inBase; }
function inCapacity(): i32 { return inCap; }
export function outPtr(): i32 { return <i32>outBase; }
function outCapacity(): i32 { return outCap; }
export function evPtr(): i32 { return <i32>evBase; }

// ── inputs: bytes and time in ──────────────────────────────────────────────────────────────
export { feed } from "./reader";
export { tick } from "./timers";
export { writeStart, writeDone } from "./commands";

// ── commands ───────────────────────────────────────────────────────────────────────────────
export { connAccept, connClose, remoteOpen, remoteFree, remoteDial, remoteKeep, release } from "./commands";
export { send, flush } from "./writer";

// ── outputs: bytes and events out ──────────────────────────────────────────────────────────
function outLength(): i32 { return outLen; }
function outConnection(): i32 { return outLen > 0 ? outConn : -1; }
export { outReset };
function evCountNow(): i32 { return evCount; }

// ── getters ────────────────────────────────────────────────────────────────────────────────
export function connState(conn: i32): i32 {
  if (conn < 0 || conn >= maxConns || liveConn(conn) == 0) return CONN_FREE;
  return load<i32>(connPtr(conn), C_STATE);
}
export function connGen(conn: i32): i32 {
  if (conn < 0 || conn >= maxConns || memoryEnd == 0) return -E_STALE;
  return load<i32>(connPtr(conn), C_GEN);
}
export function connRemote(conn: i32): i32 {
  const c = liveConn(conn);
  return c != 0 ? load<i32>(c, C_REMOTE) : -1;
}
export function connPaused(conn: i32): i32 {
  const c = liveConn(conn);
  return c != 0 ? load<i32>(c, C_PAUSED) : 0;
}
export function remoteState(remote: i32): i32 {
  const r = liveRemote(remote);
  return r != 0 ? load<i32>(r, R_STATE) : REMOTE_FREE;
}
export function remoteConn(remote: i32): i32 {
  const r = liveRemote(remote);
  return r != 0 ? load<i32>(r, R_CONN) : -1;
}
export function remoteWaiting(remote: i32): i32 {
  const r = liveRemote(remote);
  return r != 0 && ackWaiting(r) ? 1 : 0;
}
export function remoteDelay(remote: i32, now: f64): f64 {
  const r = liveRemote(remote);
  return r != 0 ? max<f64>(0, load<f64>(r, R_DEBOUNCE) - now) : 0;
}
export function remoteSerial(remote: i32): u32 {
  const r = liveRemote(remote);
  return r != 0 ? load<u32>(r, R_SERIAL) : 0;
}
export { nextDeadline } from "./timers";

// ABI names (AssemblyScript cannot export a function under a global's name directly).
export { inCapacity as inCap, outCapacity as outCap, outLength as outLen };
export { outConnection as outConn, evCountNow as evCount };

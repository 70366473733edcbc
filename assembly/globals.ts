// The configuration and memory layout of the core: the config and args records (static
// data), the limits and region bases `configure` derives from the config record, and
// `configure` itself. These globals are assigned only here, once (assembly/ABI.md "Life cycle").
//
//  0 ─────────── AssemblyScript static data: CONFIG record, ARGS record, state tables
//  heapBase ──── IN area       inCap  = buf_size
//                OUT area      outCap = buf_size + OUT_EXTRA
//                EVENT area    EV_CAP × EV_SIZE
//                remotes       maxRemotes × remoteStride  (REMOTE_SIZE, + window × W_SIZE if synchronous)
//                connections   maxConns × connStride   (fixed part, slot ids, ACK queue)
//  end ───────── rounded up to a page; `configure` grows memory once, nothing grows it later.
import {
  ARGS_SIZE, BUF_SIZE_MAX, BUF_SIZE_MIN, CF_BUF_SIZE, CF_MAX_CONNS, CF_MAX_MSG_SIZE,
  CF_MAX_REMOTES, CF_MAX_SLOTS, CF_PORT, CF_REUSE_MS, CF_SEED_HI, CF_SEED_LO, CF_SYNCHRONOUS, CF_WINDOW,
  CF_TIMEOUT_MS, CONFIG_SIZE, E_ARG, E_NO_MEMORY, E_STATE, EV_CAP, EV_SIZE, MAX_CONNS_MAX,
  MAX_REMOTES_MAX, MAX_SLOTS_MAX, OUT_EXTRA,
} from "./abi";
import { seedRng } from "./prng";
import { C_FIXED, REMOTE_SIZE, W_SIZE } from "./records";

export const CONFIG: usize = memory.data(<i32>CONFIG_SIZE, 8);
export const ARGS: usize = memory.data(<i32>ARGS_SIZE, 8);

export let configured: bool = false;
export let maxConns: i32 = 0;
export let maxRemotes: i32 = 0;
export let maxSlots: i32 = 0;
export let slotMask: u32 = 0;
export let synchronous: bool = false;
/** Synchronous mode: unacknowledged messages per remote (1: libchirp's one, protocol.md §4.7). */
export let ackWindow: i32 = 1;
export let maxMsgSize: u32 = 0;
export let timeoutMs: f64 = 0;
/** R = max(REUSE_TIME, 3·T) (protocol.md §5.5). */
export let reuseMs: f64 = 0;
export let connectTimeoutMs: f64 = 0;
/** A current connection idle for longer than this is retired at the next send (§4.6). */
export let retireIdleMs: f64 = 0;
export let ownPort: i32 = 0;
export let ackCap: i32 = 0;

export let inBase: usize = 0;
export let inCap: i32 = 0;
export let outBase: usize = 0;
export let outCap: i32 = 0;
export let evBase: usize = 0;
export let remoteBase: usize = 0;
export let connBase: usize = 0;
export let connStride: usize = 0;
export let remoteStride: usize = REMOTE_SIZE;
export let ackOffset: usize = 0; // offset of the ACK queue inside a connection record
export let memoryEnd: usize = 0;

/** min(2·T, 60 s) (protocol.md §1.4): from the config record until configure, then as configured. */
export function connectTimeoutOf(): f64 {
  return configured ? connectTimeoutMs : min<f64>(2 * load<f64>(CONFIG, CF_TIMEOUT_MS), 60000);
}

/**
 * Lays out the regions for the config record and grows memory once. Returns 0, -E_STATE if
 * already configured, -E_ARG for a bad field (nothing grown) or -E_NO_MEMORY.
 */
export function configure(): i32 {
  if (configured) return -E_STATE;
  const conns = load<i32>(CONFIG, CF_MAX_CONNS);
  const remotes = load<i32>(CONFIG, CF_MAX_REMOTES);
  const sync = load<i32>(CONFIG, CF_SYNCHRONOUS);
  const win = load<i32>(CONFIG, CF_WINDOW);
  if (win < 0 || win > MAX_SLOTS_MAX) return -E_ARG;
  const window = sync == 1 ? max<i32>(1, win) : 1;
  // Synchronous mode has `window` messages in flight per remote (one by default): as many
  // slots are all it uses, and a peer with the same window never stops reading with an ACK
  // behind unread data (protocol.md §6, §4.7, §10.2).
  const slots = sync == 1 ? window : load<i32>(CONFIG, CF_MAX_SLOTS);
  const rStride = sync == 1 ? REMOTE_SIZE + <usize>window * W_SIZE : REMOTE_SIZE;
  const bufSize = load<i32>(CONFIG, CF_BUF_SIZE);
  const port = load<i32>(CONFIG, CF_PORT);
  const tMs = load<f64>(CONFIG, CF_TIMEOUT_MS);
  const reuse = load<f64>(CONFIG, CF_REUSE_MS);
  if (conns < 1 || conns > MAX_CONNS_MAX || remotes < 1 || remotes > MAX_REMOTES_MAX) return -E_ARG;
  if (slots < 1 || slots > MAX_SLOTS_MAX || bufSize < BUF_SIZE_MIN || bufSize > BUF_SIZE_MAX) return -E_ARG;
  if (port < 0 || port > 65535 || (sync != 0 && sync != 1)) return -E_ARG;
  // NaN fails both comparisons.
  if (!(tMs > 0 && tMs < Infinity) || !(reuse > 0 && reuse < Infinity)) return -E_ARG;

  const acks = max<i32>(8, 2 * slots);
  const stride = (C_FIXED + <usize>(slots + acks) * 16 + 7) & ~<usize>7;
  const base = (<u64>__heap_base + 15) & ~<u64>15;
  const inB = base;
  const outB = inB + <u64>bufSize;
  const outC = <u64>bufSize + <u64>OUT_EXTRA;
  const evB = (outB + outC + 15) & ~<u64>15;
  const remB = evB + <u64>(EV_CAP * <i32>EV_SIZE);
  const conB = remB + <u64>remotes * <u64>rStride;
  const end = conB + <u64>conns * <u64>stride;
  const pages = (end + 0xFFFF) >> 16;
  if (pages > 32767) return -E_NO_MEMORY; // memoryBytes() is an i32
  const have = <u64>memory.size();
  if (pages > have) {
    if (memory.grow(<i32>(pages - have)) < 0) return -E_NO_MEMORY;
  }

  maxConns = conns;
  maxRemotes = remotes;
  maxSlots = slots;
  slotMask = slots == 32 ? 0xFFFFFFFF : (<u32>1 << <u32>slots) - 1;
  synchronous = sync != 0;
  ackWindow = window;
  remoteStride = rStride;
  maxMsgSize = load<u32>(CONFIG, CF_MAX_MSG_SIZE);
  timeoutMs = tMs;
  reuseMs = max<f64>(reuse, 3 * tMs);
  connectTimeoutMs = min<f64>(2 * tMs, 60000);
  retireIdleMs = 0.75 * reuseMs;
  ownPort = port;
  ackCap = acks;
  inBase = <usize>inB;
  inCap = bufSize;
  outBase = <usize>outB;
  outCap = <i32>outC;
  evBase = <usize>evB;
  remoteBase = <usize>remB;
  connBase = <usize>conB;
  connStride = stride;
  ackOffset = C_FIXED + <usize>slots * 16;
  memoryEnd = <usize>(pages << 16);
  seedRng(load<u32>(CONFIG, CF_SEED_LO), load<u32>(CONFIG, CF_SEED_HI));
  // Fresh pages are zero: every record starts free (state 0, generation 0).
  configured = true;
  return 0;
}

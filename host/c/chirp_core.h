/*
 * chirp_core.h: the ABI of the Chirp protocol core (build/chirp.wasm) for authors of hosts
 * in C, or in any language that reads C headers.
 *
 * The reference is assembly/ABI.md (../../assembly/ABI.md). This header restates it as C
 * declarations; if the two ever disagree, ABI.md is right and this file has a bug.
 * host/c/conformance.c checks this header against the module: every export below must exist
 * with exactly the listed wasm signature, and there must be no others and no imports.
 *
 * What the module is: a sans-IO state machine for the libchirp 1.2 wire protocol. It imports
 * nothing (no env.abort, no WASI), exports its linear memory as "memory", never reads a clock
 * (the host passes `now`, an f64 number of milliseconds from any monotonic origin) and grows
 * its memory exactly once, in configure(). It is independent of the runtime: any conforming
 * WebAssembly engine (wasm2c, wasmtime, wasmer, WAMR, wasm3, V8, ...) can host it.
 *
 * Byte order: everything in wasm memory (event records) is little-endian; everything on the
 * wire (handshake, frames in the IN and OUT areas) is big-endian. The host never converts
 * wire bytes itself: the core encodes and decodes frames.
 *
 * This header needs only <stdint.h> and <stddef.h>; it declares no functions of its own
 * besides one static inline event decoder. How a host calls an export depends on the
 * runtime; CHIRP_CORE_EXPORTS below lists the wasm signatures so a host can generate or
 * check its bindings (wasm2c, for example, names `feed` Z_chirpZ_feed in wabt 1.0.32).
 */
#ifndef CHIRP_CORE_H
#define CHIRP_CORE_H

#include <stddef.h>
#include <stdint.h>

/* ── sizes ───────────────────────────────────────────────────────────────────────────────── */

#define CHIRP_IDENTITY_SIZE 16     /* node and message identities (spec §1.4, §2.5) */
#define CHIRP_HANDSHAKE_SIZE 18    /* u16 port (big-endian) + node identity (spec §1.4) */
#define CHIRP_FRAME_HEADER_SIZE 27 /* identity, serial, data_len, header_len, type (spec §2.1) */
#define CHIRP_EV_SIZE 64           /* one event record */
#define CHIRP_EV_CAP 2048          /* records the EVENT area holds (tick stops when full) */
#define CHIRP_OUT_EXTRA 4096       /* outCap() = bufSize + CHIRP_OUT_EXTRA */
#define CHIRP_PAGE_SIZE 65536      /* wasm page; memoryBytes() is a multiple of it */

/* configure() limits (ABI.md, "Setup and regions"). */
#define CHIRP_MAX_CONNS_MAX 65535
#define CHIRP_MAX_REMOTES_MAX 65535
#define CHIRP_MAX_SLOTS_MAX 32
#define CHIRP_BUF_SIZE_MIN 1024
#define CHIRP_BUF_SIZE_MAX (16 * 1024 * 1024)
#define CHIRP_HEADER_LEN_MAX 65535 /* dataFrame(): header_len is a u16 on the wire */

/* ── wire type byte (spec §2.2); EV_MSG/EV_NOOP report the raw byte ──────────────────────── */

#define CHIRP_TYPE_REQ_ACK 0x01
#define CHIRP_TYPE_ACK 0x02
#define CHIRP_TYPE_NOOP 0x04

/* ── status codes (spec §4.4 numbering). Exports return -code; events carry +code ───────── */

enum chirp_status {
  CHIRP_SUCCESS = 0,
  CHIRP_VALUE_ERROR = 1,    /* bad argument: out-of-range limit, unknown index, wrong generation */
  CHIRP_PROTOCOL_ERROR = 3, /* event code: invalid frame or handshake from the peer */
  CHIRP_TIMEOUT = 9,        /* event code: connect, handshake, send (ACK) or write timeout */
  CHIRP_ENOMEM = 10,        /* no free connection/remote record; event code: oversized frame */
  CHIRP_SHUTDOWN = 11,      /* event code: garbage collection */
  CHIRP_BUSY = 16,          /* sync: a message already waits for its ACK; or OUT holds bytes for another connection */
  CHIRP_EMPTY = 17,         /* the connection has not received (or, incoming, attached) the peer's handshake */
  CHIRP_SPACE = 20          /* the OUT area has no room for this frame (or the ACK queue is full) */
};

/* ── event kinds (ABI.md, "Event records") ───────────────────────────────────────────────── */

enum chirp_event_kind {
  CHIRP_EV_HANDSHAKE = 1, /* conn, port (aux), node identity, remote (-1 for incoming: call connAttach) */
  CHIRP_EV_MSG = 2,       /* a whole message in this IN area: slot, type, serial, lengths, header at ptr1, data at ptr2, identity */
  CHIRP_EV_BEGIN = 3,     /* a message whose bytes span reads: slot, type, serial, lengths, identity */
  CHIRP_EV_CHUNK = 4,     /* bytes of the last BEGIN: ptr1 = bytes, ptr2 = length, aux = offset within header||data */
  CHIRP_EV_END = 5,       /* the message of the last BEGIN on this connection is complete */
  CHIRP_EV_ACK = 6,       /* conn, remote, identity: the remote's ACK-waiting message was acknowledged */
  CHIRP_EV_ERROR = 7,     /* conn, code (slot field): PROTOCOL_ERROR (bad frame) or ENOMEM (oversized); close it */
  CHIRP_EV_TIMEOUT = 8,   /* conn, remote, aux = enum chirp_timer */
  CHIRP_EV_GC_REMOTE = 9, /* remote (slot and remote fields), conn = -1: idle remote, free it */
  CHIRP_EV_GC_CONN = 10,  /* conn: an old (non-current) idle connection, close it */
  CHIRP_EV_RETRY = 11,    /* remote, conn = -1: its debounce ended and it wants a connection */
  CHIRP_EV_NOOP = 12      /* conn, serial, raw type, slot = -1: a NOOP arrived (for counters) */
};

/* EV_TIMEOUT aux */
enum chirp_timer {
  CHIRP_TIMER_CONNECT = 1, /* connect / handshake timeout: min(2*T, 60 s) */
  CHIRP_TIMER_SEND = 2,    /* send (ACK) timeout T, sync mode */
  CHIRP_TIMER_WRITE = 3    /* write timeout T */
};

/* connState() */
enum chirp_conn_state {
  CHIRP_CONN_FREE = 0,
  CHIRP_CONN_HANDSHAKE = 1, /* waiting for the peer's handshake */
  CHIRP_CONN_READY = 2,
  CHIRP_CONN_FAILED = 3     /* an EV_ERROR was emitted; the host must close the socket and connClose() */
};

/* connClose() result flags */
#define CHIRP_CLOSE_ABANDONED 1 /* the remote's ACK-waiting message was written on this connection: fail it */

/* release() results (besides -VALUE_ERROR and -SPACE) */
#define CHIRP_RELEASE_DONE 0
#define CHIRP_RELEASE_ACK_QUEUED 1 /* call flush() and write OUT */

/* ── the event record ────────────────────────────────────────────────────────────────────────
 * evCount() records of CHIRP_EV_SIZE bytes at evPtr(), little-endian, valid until the next
 * call into the core. Pointers are offsets into the module's memory (into the IN area for
 * EV_MSG/EV_CHUNK: copy the bytes out before the next call).
 * On a little-endian host the record can be memcpy'd into this struct; chirp_event_decode()
 * below works on any host. */
typedef struct chirp_event {
  int32_t kind; /*  0 enum chirp_event_kind */
  int32_t conn; /*  4 connection index, or -1 */
  union {       /*  8 by kind: */
    int32_t slot;   /*    EV_MSG/BEGIN/CHUNK/END: the slot to release(); -1 for HANDSHAKE/NOOP */
    int32_t code;   /*    EV_ERROR: enum chirp_status */
    int32_t remote_index; /* EV_GC_REMOTE/EV_RETRY: the remote (same as .remote) */
  };
  int32_t type;        /* 12 raw wire type byte (spec §2.2) */
  uint32_t serial;     /* 16 the frame's serial */
  uint32_t header_len; /* 20 */
  uint32_t data_len;   /* 24 */
  union {              /* 28 pointer 1 */
    int32_t ptr1;
    int32_t header_ptr; /* EV_MSG: header bytes */
    int32_t chunk_ptr;  /* EV_CHUNK: chunk bytes */
  };
  union {               /* 32 pointer 2 */
    int32_t ptr2;
    int32_t data_ptr;   /* EV_MSG: data bytes */
    int32_t chunk_len;  /* EV_CHUNK: chunk length */
  };
  union {               /* 36 aux */
    uint32_t aux;
    uint32_t port;         /* EV_HANDSHAKE: the peer's listening port */
    uint32_t chunk_offset; /* EV_CHUNK: offset of these bytes within header||data */
    uint32_t timer;        /* EV_TIMEOUT: enum chirp_timer */
  };
  int32_t gen;    /* 40 generation of conn (pass it back to release()) */
  int32_t remote; /* 44 remote index where known, else -1 */
  uint8_t identity[CHIRP_IDENTITY_SIZE]; /* 48 message identity (MSG, BEGIN, CHUNK, END, ACK) or node identity (HANDSHAKE) */
} chirp_event_t;

_Static_assert(sizeof(chirp_event_t) == CHIRP_EV_SIZE, "event record is 64 bytes");
_Static_assert(offsetof(chirp_event_t, kind) == 0, "kind @0");
_Static_assert(offsetof(chirp_event_t, conn) == 4, "conn @4");
_Static_assert(offsetof(chirp_event_t, slot) == 8, "slot @8");
_Static_assert(offsetof(chirp_event_t, code) == 8, "code @8");
_Static_assert(offsetof(chirp_event_t, type) == 12, "type @12");
_Static_assert(offsetof(chirp_event_t, serial) == 16, "serial @16");
_Static_assert(offsetof(chirp_event_t, header_len) == 20, "header_len @20");
_Static_assert(offsetof(chirp_event_t, data_len) == 24, "data_len @24");
_Static_assert(offsetof(chirp_event_t, ptr1) == 28, "ptr1 @28");
_Static_assert(offsetof(chirp_event_t, ptr2) == 32, "ptr2 @32");
_Static_assert(offsetof(chirp_event_t, aux) == 36, "aux @36");
_Static_assert(offsetof(chirp_event_t, gen) == 40, "gen @40");
_Static_assert(offsetof(chirp_event_t, remote) == 44, "remote @44");
_Static_assert(offsetof(chirp_event_t, identity) == 48, "identity @48");

/* Decodes record `i` of the EVENT area (`mem` = the module's memory base, `ev_ptr` =
 * evPtr()), reading little-endian whatever the host's byte order. */
static inline void chirp_event_decode(chirp_event_t *ev, const uint8_t *mem, uint32_t ev_ptr,
                                      uint32_t i) {
  const uint8_t *p = mem + ev_ptr + (size_t)i * CHIRP_EV_SIZE;
#define CHIRP_LE32(o) \
  ((uint32_t)p[o] | (uint32_t)p[(o) + 1] << 8 | (uint32_t)p[(o) + 2] << 16 | (uint32_t)p[(o) + 3] << 24)
  ev->kind = (int32_t)CHIRP_LE32(0);
  ev->conn = (int32_t)CHIRP_LE32(4);
  ev->slot = (int32_t)CHIRP_LE32(8);
  ev->type = (int32_t)CHIRP_LE32(12);
  ev->serial = CHIRP_LE32(16);
  ev->header_len = CHIRP_LE32(20);
  ev->data_len = CHIRP_LE32(24);
  ev->ptr1 = (int32_t)CHIRP_LE32(28);
  ev->ptr2 = (int32_t)CHIRP_LE32(32);
  ev->aux = CHIRP_LE32(36);
  ev->gen = (int32_t)CHIRP_LE32(40);
  ev->remote = (int32_t)CHIRP_LE32(44);
#undef CHIRP_LE32
  for (int k = 0; k < CHIRP_IDENTITY_SIZE; k++) ev->identity[k] = p[48 + k];
}

/* ── exports ─────────────────────────────────────────────────────────────────────────────────
 * Every function export, with its wasm signature (wasm has only i32/i64/f32/f64; the comment
 * gives the meaning: an i32 documented as u32 holds an unsigned value, e.g. serials >= 2^31).
 * Negative i32 results are -enum chirp_status. Besides these, the module exports its memory
 * as "memory" (one memory, initial 1 page, no maximum; grown once by configure()).
 *
 *  Setup and regions
 *   identityPtr  () -> i32                16 bytes: this node's identity; write it before configure
 *   scratchPtr   () -> i32                16 bytes: write a message identity here before dataFrame
 *   configure    (maxConns i32, maxRemotes i32, maxSlots i32, synchronous i32, maxMsgSize u32,
 *                 timeoutMs f64, reuseMs f64, bufSize i32, port i32, seedLo i32, seedHi i32) -> i32
 *                                         once; 0 or -VALUE_ERROR/-ENOMEM (then nothing grew).
 *                                         reuseMs = effective R = max(REUSE_TIME, 3*TIMEOUT);
 *                                         seedLo/seedHi: crypto-random bits for the PRNG
 *   memoryBytes  () -> i32                total memory after configure
 *   inPtr, inCap () -> i32                IN area (inCap = bufSize): the host copies socket bytes here
 *   outPtr, outCap, outLen () -> i32      OUT area (outCap = bufSize + 4096) and its fill
 *   outConn      () -> i32                the connection the OUT bytes are for, -1 if empty
 *   outReset     () -> void               the host has taken the OUT bytes
 *   evPtr, evCount () -> i32              event records of the last call
 *  Connections (conn index + generation)
 *   connOpen     (outgoing i32, remote i32, now f64) -> i32   conn, or -ENOMEM/-BUSY; appends our handshake to OUT
 *   connGen      (conn i32) -> i32
 *   connState    (conn i32) -> i32        enum chirp_conn_state
 *   connRemote   (conn i32) -> i32        remote or -1
 *   connPaused   (conn i32) -> i32        1 while a data frame waits for a slot (stop reading)
 *   connAttach   (conn i32, remote i32, now f64) -> i32        after EV_HANDSHAKE with remote -1
 *   connClose    (conn i32, now f64) -> i32                    flags: CHIRP_CLOSE_ABANDONED
 *   feed         (conn i32, len i32, now f64) -> i32           parse IN[0..len); returns bytes consumed
 *   release      (conn i32, gen i32, slot i32, now f64) -> i32 0, 1 (ACK queued: flush), -VALUE_ERROR, -SPACE
 *  Sending
 *   flush        (conn i32, now f64) -> i32                    queued control frames to OUT; outLen() or -status
 *   dataFrame    (conn i32, headerLen u32, dataLen u32, inline i32, now f64) -> i32
 *                                         OUT offset of the 27-byte header, or -BUSY/-EMPTY/-SPACE/-VALUE_ERROR.
 *                                         inline 1: headerLen+dataLen bytes reserved after it for the host to fill
 *   writeStart   (conn i32, now f64) -> void                   bytes handed to the socket: arm the write timeout
 *   writeDone    (conn i32, idle i32, now f64) -> void         a write completed (idle 1: nothing more pending)
 *  Remotes (the host keeps the (address, port) -> index map)
 *   remoteAlloc  (now f64) -> i32         remote or -ENOMEM
 *   remoteFree   (remote i32) -> void
 *   remoteConn   (remote i32) -> i32      current ready connection or -1
 *   remoteWaiting (remote i32) -> i32     1 while a sync message waits for its ACK
 *   remoteDebounce (remote i32, now f64) -> f64   ms until it may connect again
 *   remoteWant   (remote i32, want i32) -> void   1: messages queued, no connection (EV_RETRY when debounce ends)
 *   remoteSerial (remote i32) -> u32      the last serial used
 *  Timers
 *   tick         (now f64) -> i32         run expired timers; number of events
 *   nextDeadline () -> f64                earliest time tick has work (+Inf if none)
 *
 * The same list as an X-macro: X(name, "params", "results"), types in wasm text notation,
 * space separated. E.g. to build WAMR-style or wasmtime-style signatures, or to check a
 * module (conformance.c does that).
 */
#define CHIRP_CORE_EXPORTS(X)                                                        \
  X(identityPtr, "", "i32")                                                          \
  X(scratchPtr, "", "i32")                                                           \
  X(configure, "i32 i32 i32 i32 i32 f64 f64 i32 i32 i32 i32", "i32")                 \
  X(memoryBytes, "", "i32")                                                          \
  X(inPtr, "", "i32")                                                                \
  X(inCap, "", "i32")                                                                \
  X(outPtr, "", "i32")                                                               \
  X(outCap, "", "i32")                                                               \
  X(outLen, "", "i32")                                                               \
  X(outConn, "", "i32")                                                              \
  X(outReset, "", "")                                                                \
  X(evPtr, "", "i32")                                                                \
  X(evCount, "", "i32")                                                              \
  X(connOpen, "i32 i32 f64", "i32")                                                  \
  X(connGen, "i32", "i32")                                                           \
  X(connState, "i32", "i32")                                                         \
  X(connRemote, "i32", "i32")                                                        \
  X(connPaused, "i32", "i32")                                                        \
  X(connAttach, "i32 i32 f64", "i32")                                                \
  X(connClose, "i32 f64", "i32")                                                     \
  X(feed, "i32 i32 f64", "i32")                                                      \
  X(release, "i32 i32 i32 f64", "i32")                                               \
  X(flush, "i32 f64", "i32")                                                         \
  X(dataFrame, "i32 i32 i32 i32 f64", "i32")                                         \
  X(writeStart, "i32 f64", "")                                                       \
  X(writeDone, "i32 i32 f64", "")                                                    \
  X(remoteAlloc, "f64", "i32")                                                       \
  X(remoteFree, "i32", "")                                                           \
  X(remoteConn, "i32", "i32")                                                        \
  X(remoteWaiting, "i32", "i32")                                                     \
  X(remoteDebounce, "i32 f64", "f64")                                                \
  X(remoteWant, "i32 i32", "")                                                       \
  X(remoteSerial, "i32", "i32")                                                      \
  X(tick, "f64", "i32")                                                              \
  X(nextDeadline, "", "f64")

#define CHIRP_CORE_MEMORY_EXPORT "memory"

#endif /* CHIRP_CORE_H */

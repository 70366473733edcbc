/*
 * chirp_core.h: the ABI of the Chirp protocol core (build/chirp.wasm) for authors of hosts
 * in C, or in any language that reads C headers.
 *
 * The reference is assembly/ABI.md (../../assembly/ABI.md). The tables (status codes, event
 * kinds, states, the event/config/args record offsets, the export list) are in chirp_abi.h,
 * generated from assembly/abi.mjs like the core's and the JavaScript host's own copies, so the
 * three cannot drift. host/c/conformance.c checks the export list against the module: every
 * export must exist with exactly the listed wasm signature, and there must be no others and
 * no imports.
 *
 * What the module is: a sans-IO state machine for the libchirp 1.2 wire protocol. It imports
 * nothing (no env.abort, no WASI), exports its linear memory as "memory", never reads a clock
 * (the host passes `now`, an f64 number of milliseconds from any monotonic origin) and grows
 * its memory exactly once, in configure(). Any conforming WebAssembly engine (wasm2c,
 * wasmtime, wasmer, WAMR, wasm3, V8, ...) can host it.
 *
 * Byte order: everything in wasm memory (records) is little-endian; everything on the wire
 * (handshake, frames in the IN and OUT areas) is big-endian. The host never converts wire
 * bytes itself: the core encodes and decodes frames.
 *
 * Call order (ABI.md "Driving the core"):
 *   setup    write the config record at configPtr(), configure(), read the region pointers
 *   inputs   feed(conn, len, now) after copying socket bytes to inPtr(); tick(now) when
 *            nextDeadline() has passed; writeStart/writeDone around socket writes
 *   commands connAccept / remoteOpen (peer address in the args record), remoteDial, send
 *            (message identity in the args record), release, flush, connClose, remoteFree
 *   outputs  after each command that encodes, take OUT (outLen() bytes for outConn()) and
 *            outReset() before a command for another connection; after feed/tick handle the
 *            evCount() event records before the next call
 *   getters  connState, connPaused, remoteConn, remoteWaiting, ... at any time
 *
 * This header needs only <stdint.h> and <stddef.h>. How a host calls an export depends on the
 * runtime; CHIRP_CORE_EXPORTS lists the wasm signatures so a host can generate or check its
 * bindings (wasm2c, for example, names `feed` Z_chirpZ_feed in wabt 1.0.32).
 */
#ifndef CHIRP_CORE_H
#define CHIRP_CORE_H

#include <stddef.h>
#include <stdint.h>

#include "chirp_abi.h"

#define CHIRP_PAGE_SIZE 65536 /* wasm page; memoryBytes() is a multiple of it */
#define CHIRP_CORE_MEMORY_EXPORT "memory"

/* Little-endian stores into the module's memory (for the config and args records). */
static inline void chirp_put_u32(uint8_t *mem, uint32_t at, uint32_t v) {
  mem[at] = (uint8_t)v;
  mem[at + 1] = (uint8_t)(v >> 8);
  mem[at + 2] = (uint8_t)(v >> 16);
  mem[at + 3] = (uint8_t)(v >> 24);
}

static inline void chirp_put_f64(uint8_t *mem, uint32_t at, double v) {
  uint64_t u; /* the double's bits as a number: shifting it gives little-endian bytes */
  uint8_t *src = (uint8_t *)&v, *dst = (uint8_t *)&u;
  for (int k = 0; k < 8; k++) dst[k] = src[k];
  for (int k = 0; k < 8; k++) mem[at + k] = (uint8_t)(u >> (8 * k));
}

/* The config record's fields, written in one call (configure() reads them). */
typedef struct chirp_config {
  uint8_t identity[CHIRP_IDENTITY_SIZE];
  int32_t max_conns, max_remotes, max_slots, synchronous;
  uint32_t max_msg_size;
  int32_t buf_size, port;
  uint32_t seed_lo, seed_hi;
  double timeout_ms, reuse_ms; /* reuse_ms: REUSE_TIME; the core uses R = max(reuse, 3*T) */
} chirp_config_t;

static inline void chirp_config_write(uint8_t *mem, uint32_t config_ptr, const chirp_config_t *c) {
  for (int k = 0; k < CHIRP_IDENTITY_SIZE; k++) mem[config_ptr + CHIRP_CONFIG_IDENTITY + k] = c->identity[k];
  chirp_put_u32(mem, config_ptr + CHIRP_CONFIG_MAX_CONNS, (uint32_t)c->max_conns);
  chirp_put_u32(mem, config_ptr + CHIRP_CONFIG_MAX_REMOTES, (uint32_t)c->max_remotes);
  chirp_put_u32(mem, config_ptr + CHIRP_CONFIG_MAX_SLOTS, (uint32_t)c->max_slots);
  chirp_put_u32(mem, config_ptr + CHIRP_CONFIG_SYNCHRONOUS, (uint32_t)c->synchronous);
  chirp_put_u32(mem, config_ptr + CHIRP_CONFIG_MAX_MSG_SIZE, c->max_msg_size);
  chirp_put_u32(mem, config_ptr + CHIRP_CONFIG_BUF_SIZE, (uint32_t)c->buf_size);
  chirp_put_u32(mem, config_ptr + CHIRP_CONFIG_PORT, (uint32_t)c->port);
  chirp_put_u32(mem, config_ptr + CHIRP_CONFIG_SEED_LO, c->seed_lo);
  chirp_put_u32(mem, config_ptr + CHIRP_CONFIG_SEED_HI, c->seed_hi);
  chirp_put_f64(mem, config_ptr + CHIRP_CONFIG_TIMEOUT_MS, c->timeout_ms);
  chirp_put_f64(mem, config_ptr + CHIRP_CONFIG_REUSE_MS, c->reuse_ms);
}

/* Writes an IPv4 address as IPv4-mapped IPv6 (::ffff:a.b.c.d) into the args record. */
static inline void chirp_args_ipv4(uint8_t *mem, uint32_t args_ptr, uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
  uint8_t *p = mem + args_ptr + CHIRP_ARGS_ADDRESS;
  for (int k = 0; k < 10; k++) p[k] = 0;
  p[10] = p[11] = 0xff;
  p[12] = a; p[13] = b; p[14] = c; p[15] = d;
}

#endif /* CHIRP_CORE_H */

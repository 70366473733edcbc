// The one description of the core's ABI tables: status codes (split by blame), event kinds,
// the event record, the config and args records, record states, constants and the exports by
// kind. scripts/gen-abi.mjs writes assembly/abi.ts, adapters/core/abi.ts and
// host/c/chirp_abi.h from it; `npm run check:abi` fails when one of them is stale.
// assembly/ABI.md explains what each entry means for a host.

/** Status codes. Commands return `-code`; events carry `+code` in their `code` field. */
export const codes = {
  /** The host's bug: fix the host. Nothing was changed. */
  host: [
    ["ARG", 1, "bad argument: a value outside its range"],
    ["STALE", 2, "the handle names no record in use, or an older generation of it"],
    ["STATE", 3, "the command does not apply now (before/after configure, OUT holds another connection's bytes, dialling a connected remote)"],
  ],
  /** Not a bug: a condition the host handles as documented. */
  condition: [
    ["FULL", 16, "no free connection or remote record"],
    ["SPACE", 17, "no room in OUT (or in the ACK queue): take OUT and call again"],
    ["WAIT", 18, "synchronous mode: the remote's window of unacknowledged messages is full (or they wait on another connection); send again after EV_ACK"],
    ["NOT_READY", 19, "the connection has not received the peer's handshake"],
    ["LATER", 20, "remoteDial: a dial is in progress or the reconnect delay runs; EV_HANDSHAKE or EV_RETRY follows"],
    ["NO_MEMORY", 21, "configure: the memory cannot grow to the layout (or it would exceed 2 GiB)"],
    ["RETIRED", 22, "send: the connection was idle for more than 0.75·R, so the peer may be collecting it (protocol.md §4.6); it is no longer the remote's current one: dial (remoteDial) and send on the new connection"],
  ],
  /** The peer's fault (event codes): the host closes the connection. `chirp` is the user-facing
   * error code (adapters/errors.ts, protocol.md §4.4). */
  peer: [
    ["BAD_FRAME", 32, "PROTOCOL_ERROR", "invalid frame: ACK/NOOP with a payload or with REQ_ACK (protocol.md §2.2)"],
    ["TOO_BIG", 33, "ENOMEM", "frame larger than maxMsgSize (header_len + data_len, 64-bit sum, protocol.md §3.5)"],
    ["CONNECT_TIMEOUT", 34, "TIMEOUT", "outgoing: no handshake from the peer within min(2·T, 60 s) (protocol.md §1.4)"],
    ["HANDSHAKE_TIMEOUT", 35, "TIMEOUT", "incoming: the peer sent no handshake within min(2·T, 60 s) (protocol.md §10.6)"],
    ["ACK_TIMEOUT", 36, "TIMEOUT", "synchronous: the message was not acknowledged within T (protocol.md §4.3)"],
    ["WRITE_TIMEOUT", 37, "TIMEOUT", "a write did not complete within T: the peer does not read"],
    ["BAD_HANDSHAKE", 38, "PROTOCOL_ERROR", "the handshake announces port 0, where no node listens (protocol.md §1.5)"],
  ],
};

/** Event kinds: [name, value, fields set besides kind/conn/gen/remote, doc]. */
export const events = [
  ["HANDSHAKE", 1, "port, identity (node)", "the peer's handshake arrived; remote = the remote the connection is filed under (found or made for (address, port) if incoming)"],
  ["MSG", 2, "slot, type, serial, lengths, ptr/len (header‖data), identity", "a whole data message in this IN area: copy it out; release(conn, gen, slot) later"],
  ["BEGIN", 3, "slot, type, serial, lengths, identity", "a data message whose bytes span reads; EV_CHUNKs follow, then EV_END"],
  ["CHUNK", 4, "slot, ptr/len, offset (within header‖data), type, serial, lengths, identity", "bytes of the message of the last EV_BEGIN"],
  ["END", 5, "slot, type, serial, lengths, identity", "the message of the last EV_BEGIN on this connection is complete"],
  ["ACK", 6, "identity", "the remote's ACK-waiting message was acknowledged (on any of its connections)"],
  ["ERROR", 7, "code", "the connection failed (state FAILED): code BAD_FRAME, TOO_BIG or BAD_HANDSHAKE (the peer's fault) or FULL (no remote record for a new peer, none evictable); close it"],
  ["TIMEOUT", 8, "code", "a timer expired: code CONNECT_, HANDSHAKE_, ACK_ or WRITE_TIMEOUT; close the connection"],
  ["GC_REMOTE", 9, "", "the remote was idle for more than R (conn -1): forget it (remoteFree)"],
  ["GC_CONN", 10, "", "an old (not current) connection was idle for more than R: close it"],
  ["RETRY", 11, "", "the remote's reconnect delay ended (conn -1): call remoteDial again"],
];

/** The event record: [field, offset, C type, doc]. Every field has one meaning in every kind;
 * fields a kind does not set are 0 (-1 for conn, remote and slot). */
export const eventRecord = {
  size: 64, // one cache line per event, as the old record
  fields: [
    ["kind", 0, "u16", "EV_*"],
    ["type", 2, "u16", "raw wire type byte of the frame (protocol.md §2.2)"],
    ["conn", 4, "i32", "connection index, -1 for none"],
    ["gen", 8, "i32", "generation of conn (pass it to release)"],
    ["remote", 12, "i32", "remote index, -1 for none"],
    ["slot", 16, "i16", "message slot (MSG, BEGIN, CHUNK, END), else -1"],
    ["code", 18, "i16", "status code (ERROR, TIMEOUT), else 0"],
    ["serial", 20, "u32", "the frame's serial"],
    ["header_len", 24, "u32", "message header length"],
    ["data_len", 28, "u32", "message data length"],
    ["ptr", 32, "u32", "address in IN of bytes of header‖data (MSG: all of them, CHUNK: this chunk)"],
    ["len", 36, "u32", "how many bytes are at ptr"],
    ["offset", 40, "u32", "offset of the bytes at ptr within header‖data (CHUNK; 0 for MSG)"],
    ["port", 44, "u32", "the peer's announced port (HANDSHAKE)"],
    ["identity", 48, "u8[16]", "message identity (MSG, BEGIN, CHUNK, END, ACK) or node identity (HANDSHAKE)"],
  ],
};

/** The config record at configPtr(): the host writes it, then calls configure(). */
export const configRecord = {
  size: 72,
  fields: [
    ["identity", 0, "u8[16]", "this node's identity (protocol.md §1.4)"],
    ["max_conns", 16, "i32", "connection records, 1..65535"],
    ["max_remotes", 20, "i32", "remote records, 1..65535"],
    ["max_slots", 24, "i32", "message slots per connection, 1..32; synchronous mode uses max(1, window) whatever is written (protocol.md §6)"],
    ["synchronous", 28, "i32", "1: every message asks for an ACK and waits for it (protocol.md §4.2); 0: asynchronous"],
    ["max_msg_size", 32, "u32", "largest header_len + data_len accepted from a peer"],
    ["buf_size", 36, "i32", "IN area bytes, 1024..16 MiB (OUT is buf_size + OUT_EXTRA)"],
    ["port", 40, "i32", "the port announced in our handshake, 0..65535"],
    ["seed_lo", 44, "u32", "PRNG seed, low 32 bits (crypto-random; serial starts, GC jitter, reconnect delay)"],
    ["seed_hi", 48, "u32", "PRNG seed, high 32 bits"],
    ["window", 52, "i32", "synchronous mode: unacknowledged messages per remote, 0..32 (0 and 1: one, libchirp's behaviour; protocol.md §4.7)"],
    ["timeout_ms", 56, "f64", "T: send/ACK and write timeout, ms; connect timeout min(2·T, 60 s) (protocol.md §4.3)"],
    ["reuse_ms", 64, "f64", "REUSE_TIME, ms; the core uses R = max(reuse_ms, 3·T) (protocol.md §5.5)"],
  ],
};

/** The args record at argsPtr(): inputs of commands that take more than numbers. */
export const argsRecord = {
  size: 32,
  fields: [
    ["address", 0, "u8[16]", "peer IP address, IPv6 or IPv4-mapped (::ffff:a.b.c.d), network order: connAccept, remoteOpen"],
    ["identity", 16, "u8[16]", "message identity: send"],
  ],
};

/** Record states as getters report them. */
export const states = {
  conn: [
    ["FREE", 0, "not in use"],
    ["HANDSHAKE", 1, "waiting for the peer's handshake"],
    ["READY", 2, "handshake done"],
    ["FAILED", 3, "an EV_ERROR was reported: close it"],
  ],
  remote: [
    ["FREE", 0, "not in use"],
    ["IDLE", 1, "no connection; remoteDial dials"],
    ["DELAY", 2, "reconnect delay: EV_RETRY when it ends (protocol.md §4.5)"],
    ["DIALING", 3, "an outgoing connection waits for its handshake"],
    ["CONNECTED", 4, "has a current connection (remoteConn)"],
  ],
};

/** Constants: [name, value, doc]. */
export const constants = [
  ["IDENTITY_SIZE", 16, "node and message identities (protocol.md §1.4, §2.5)"],
  ["HANDSHAKE_SIZE", 18, "u16 port + node identity (protocol.md §1.4)"],
  ["FRAME_HEADER_SIZE", 27, "identity, serial, data_len, header_len, type (protocol.md §2.1)"],
  ["EV_CAP", 2048, "records the EVENT area holds"],
  ["OUT_EXTRA", 4096, "outCap() = buf_size + OUT_EXTRA"],
  ["HEADER_LEN_MAX", 65535, "header_len is a u16 on the wire"],
  ["MAX_CONNS_MAX", 65535, "config max_conns"],
  ["MAX_REMOTES_MAX", 65535, "config max_remotes"],
  ["MAX_SLOTS_MAX", 32, "config max_slots"],
  ["BUF_SIZE_MIN", 1024, "config buf_size"],
  ["BUF_SIZE_MAX", 16777216, "config buf_size"],
  ["TYPE_REQ_ACK", 1, "wire type bit (protocol.md §2.2)"],
  ["TYPE_ACK", 2, "wire type bit"],
  ["TYPE_NOOP", 4, "wire type bit"],
  ["CLOSE_ABANDONED", 1, "connClose flag: the remote's ACK-waiting message was written on this connection: fail it"],
  ["RELEASE_DONE", 0, "release: the slot is free (result flags below are 0)"],
  ["RELEASE_ACK_QUEUED", 1, "release flag: an ACK was queued: flush and write OUT"],
  ["RELEASE_RESUME", 2, "release flag: the connection is paused for a slot: feed it again (the rest, or len 0)"],
];

/** Exports by kind: [name, "param:type ...", results, doc]; wasm types in text notation. */
export const exports = {
  setup: [
    ["configPtr", "", "i32", "the config record (write it before configure)"],
    ["configure", "", "i32", "lay out memory for the config record, grow it once; 0 or -ARG/-STATE/-NO_MEMORY (then nothing grew)"],
    ["connectTimeout", "", "f64", "ms: min(2·T, 60 s), from the config record (also before configure)"],
    ["memoryBytes", "", "i32", "memory size after configure"],
    ["argsPtr", "", "i32", "the args record"],
    ["inPtr", "", "i32", "IN area: the host copies socket bytes here"],
    ["inCap", "", "i32", "IN area size (= buf_size)"],
    ["outPtr", "", "i32", "OUT area: bytes the core encoded"],
    ["outCap", "", "i32", "OUT area size"],
    ["evPtr", "", "i32", "EVENT area"],
  ],
  inputs: [
    ["feed", "conn:i32 len:i32 now:f64", "i32", "parse IN[0..len); bytes consumed"],
    ["tick", "now:f64", "i32", "run expired timers; events"],
    ["writeStart", "conn:i32 now:f64", "", "bytes were handed to the socket: arm the write timeout"],
    ["writeDone", "conn:i32 idle:i32 now:f64", "", "a write completed; idle 1: nothing more pending"],
  ],
  commands: [
    ["connAccept", "now:f64", "i32", "an accepted socket, peer address in args; conn (handshake in OUT) or -FULL"],
    ["connClose", "conn:i32 now:f64", "i32", "the socket closed; flags (CLOSE_ABANDONED)"],
    ["remoteOpen", "port:i32 now:f64", "i32", "the remote for (args address, port), found or made (the table full: the index of an idle remote evicted for it); or -FULL"],
    ["remoteKeep", "remote:i32 keep:i32", "i32", "keep 1: the host has work queued for it, never evict it; 0: it may be evicted once idle; 0 or -STALE"],
    ["remoteFree", "remote:i32", "i32", "forget it; 0 or -STALE"],
    ["remoteDial", "remote:i32 now:f64", "i32", "conn to dial now (handshake in OUT), or -LATER"],
    ["send", "conn:i32 headerLen:i32 dataLen:i32 inline:i32 now:f64", "i32", "data frame, identity in args; OUT offset of the payload"],
    ["release", "conn:i32 gen:i32 slot:i32", "i32", "free a slot; flags RELEASE_ACK_QUEUED | RELEASE_RESUME, or -STALE/-ARG/-SPACE"],
    ["flush", "conn:i32", "i32", "queued ACKs to OUT; outLen() or -SPACE"],
  ],
  outputs: [
    ["outLen", "", "i32", "bytes in OUT"],
    ["outConn", "", "i32", "the connection the OUT bytes are for, -1 if empty"],
    ["outReset", "", "", "the host took the OUT bytes"],
    ["evCount", "", "i32", "event records of the last feed/tick"],
  ],
  getters: [
    ["connState", "conn:i32", "i32", "CONN_* state"],
    ["connGen", "conn:i32", "i32", "generation of the record"],
    ["connRemote", "conn:i32", "i32", "remote or -1"],
    ["connPaused", "conn:i32", "i32", "1 while a data frame waits for a free slot (stop reading)"],
    ["remoteState", "remote:i32", "i32", "REMOTE_* state"],
    ["remoteConn", "remote:i32", "i32", "current connection or -1"],
    ["remoteWaiting", "remote:i32", "i32", "1 while a synchronous message waits for its ACK"],
    ["remoteDelay", "remote:i32 now:f64", "f64", "ms of reconnect delay left"],
    ["remoteSerial", "remote:i32", "i32", "the last serial used (a u32)"],
    ["nextDeadline", "", "f64", "the earliest time tick has work (+Infinity if none)"],
  ],
};

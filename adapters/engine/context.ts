// The seams of the engine: what its parts (send queue, connections, reader, timer) share and
// how they call each other. Each part gets one Ctx (engine.ts builds it) and sees the others
// only through these interfaces, so the parts import no part (no import cycles).
import type { Core } from "../core/core.ts";
import type { ResolvedConfig } from "../config.ts";
import type { Transport, Socket } from "../transport.ts";
import type { ChirpErrorCode, ChirpError } from "../errors.ts";
import type { Message, MessageOwner } from "../message.ts";
import type { Tally } from "../monitor/stats.ts";
import type { Events } from "./events.ts";
import type { RemoteTable } from "./remotes.ts";
import type { Conn, Remote, SendOp, SendOptions } from "./records.ts";
import type { InFlight } from "./messages.ts";

/** send-queue.ts: queues sends and writes them as the protocol allows. */
export interface SenderPart {
  enqueue(remote: Remote, data: Uint8Array, options: SendOptions | undefined): Promise<Uint8Array>;
  /** The remote has work (a queued send, a connection that became ready, an ACK). */
  markDirty(r: Remote): void;
  /** Tells the core whether sends are queued for the remote (remoteKeep). */
  keep(r: Remote, on: boolean): void;
  /** Writes the connection's queued control frames (ACKs) now. */
  flushControl(conn: Conn): void;
  /** Writes them after a few microtasks unless a send to the peer carried them first. */
  flushControlSoon(conn: Conn): void;
  write(conn: Conn, chunks: Uint8Array[], ops: SendOp[], bufs?: Uint8Array[]): boolean;
  /** Writes the frames encoded at send time, which hold OUT (before another connection's
   * command that needs it). */
  flushOut(): void;
  /** The connection closed: its frames still in OUT are lost (reported). */
  connClosed(conn: Conn, err: Error): void;
}

/** connections.ts: dialling, accepting, handshakes and closing (protocol.md §1, §4.5, §5). */
export interface LinksPart {
  dial(r: Remote): void;
  accept(sock: Socket): void;
  /** An incoming connection refused before it had a record: reported with its reason. */
  refused(address: string, code: ChirpErrorCode, why: string, cause?: unknown): void;
  /** The peer's handshake: the core filed the connection under remote index `remote`. */
  handshake(conn: Conn, port: number, identity: Uint8Array, remote: number): void;
  closeConn(conn: Conn, code: ChirpErrorCode, why: string, orderly?: boolean): void;
  failQueue(r: Remote, err: Error): void;
  dropRemote(r: Remote, err: ChirpError): void;
  /** The core evicted idle remote `r` (its record is free already). */
  evicted(r: Remote): void;
}

/** receive.ts: reads, core events, messages to the application, releases (protocol.md §3). */
export interface ReceiverPart {
  onData(conn: Conn, bytes: Uint8Array): void;
  /** Acts on the core's event records of the last feed or tick; returns the messages. */
  handleEvents(): Message[];
  dispatch(msgs: Message[]): void;
}

/** timers.ts: one runtime timer at the core's next deadline. */
export interface TimerPart {
  arm(): void;
}

export interface Ctx {
  readonly core: Core;
  readonly config: Readonly<ResolvedConfig>;
  readonly transport: Transport;
  /** The port this node listens on and announces. */
  readonly port: number;
  readonly identity: Uint8Array;
  /** Connections by core index. */
  readonly conns: (Conn | undefined)[];
  readonly remotes: RemoteTable;
  /** The node's total counters. */
  readonly tally: Tally;
  /** Memory of messages being received, against config.maxInFlightBytes. */
  readonly inFlight: InFlight;
  readonly events: Events;
  /** The Message owner (releases and replies go through it). */
  readonly owner: MessageOwner;
  readonly onMessage: ((msg: Message) => void) | undefined;
  readonly onError: (err: Error) => void;
  /** The node is closing: nothing new starts. */
  readonly closing: boolean;
  /** Sockets open; `socketClosed` is called when one closes. */
  openSockets: number;
  socketClosed(): void;
  readonly sender: SenderPart;
  readonly links: LinksPart;
  readonly receiver: ReceiverPart;
  readonly timer: TimerPart;
}

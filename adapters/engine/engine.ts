// The engine: builds one node's parts (send queue, connections, reader, timer, write
// buffers) around its core and transport, and is the Ctx they share (context.ts). It owns
// the node's tables; the Chirp facade (chirp.ts) is the user's face of it.
import type { Core } from "../core/core.ts";
import type { ResolvedConfig } from "../config.ts";
import type { Transport } from "../transport.ts";
import { Tally } from "../monitor/stats.ts";
import type { Message, MessageOwner } from "../message.ts";
import { ChirpError } from "../errors.ts";
import type { Conn } from "./records.ts";
import type { Ctx } from "./context.ts";
import { Events } from "./events.ts";
import { RemoteTable } from "./remotes.ts";
import { WriteBuffers } from "./write-buffers.ts";
import { Sender } from "./send-queue.ts";
import { toBytes } from "./send-args.ts";
import { Connections } from "./connections.ts";
import { Receiver } from "./receive.ts";
import { Timer } from "./timers.ts";
import { Names } from "./names.ts";
import { InFlight } from "./messages.ts";
import { NameCache } from "../resolve.ts";

export class Engine implements Ctx, MessageOwner {
  readonly conns: (Conn | undefined)[] = [];
  readonly tally = new Tally();
  readonly remotes: RemoteTable;
  readonly events: Events;
  readonly inFlight: InFlight;
  readonly owner: MessageOwner = this;
  readonly sender: Sender;
  readonly links: Connections;
  readonly receiver: Receiver;
  readonly timer: Timer;
  /** Sends to host names (names.ts). */
  readonly names: Names;
  closing = false;
  /** close() was called: new sends and replies are refused; accepted work goes on (drain). */
  draining = false;
  openSockets = 0;
  /** Called once when the last socket closed during shutdown. */
  onAllSocketsClosed: (() => void) | null = null;

  constructor(
    readonly core: Core,
    readonly config: Readonly<ResolvedConfig>,
    readonly transport: Transport,
    readonly port: number,
    readonly identity: Uint8Array,
    readonly onMessage: ((msg: Message) => void) | undefined,
    readonly onError: (err: Error) => void,
  ) {
    this.remotes = new RemoteTable(core, config.maxRemotes, this.tally);
    this.events = new Events(onError);
    this.inFlight = new InFlight(config.maxInFlightBytes);
    this.sender = new Sender(this, new WriteBuffers(core));
    this.links = new Connections(this);
    this.remotes.onEvicted = (r) => this.links.evicted(r);
    this.receiver = new Receiver(this);
    this.timer = new Timer(this);
    // Host names: config.resolve, else the runtime's resolver; a lookup gets the connect
    // timeout, min(2·timeout, 60) s (config.ts).
    const resolve = config.resolve ?? transport.resolve?.bind(transport);
    const cache = resolve ? new NameCache(resolve, config.resolveCacheTime * 1000, Math.min(2 * config.timeout, 60) * 1000) : null;
    this.names = new Names(this, cache);
  }

  socketClosed(): void {
    this.onAllSocketsClosed?.();
  }

  /** Open connections (incoming and outgoing, including ones still dialling). */
  get connectionCount(): number {
    let n = 0;
    for (const c of this.conns) if (c) n++;
    return n;
  }

  /** MessageOwner: frees a message's slot (and sends its ACK in synchronous mode). */
  releaseSlot(ci: number, gen: number, slot: number): void {
    this.receiver.release(ci, gen, slot);
  }

  /** MessageOwner: reply over the message's remote (its connection while it lives). */
  reply(msg: Message, data?: Uint8Array | string, options: { header?: Uint8Array | string } = {}): Promise<Uint8Array> {
    try {
      if (this.draining) throw new ChirpError("SHUTDOWN", "this node is closing");
      const r = this.remotes.get(msg.address, msg.port, performance.now());
      return this.sender.enqueue(r, toBytes(data, "data"), { header: options.header, identity: msg.identity });
    } catch (e) {
      return Promise.reject(e);
    }
  }
}

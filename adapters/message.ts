// A received message (protocol.md §3.4): its fields, and the slot it holds until released.

/** What the engine does for a message; implemented by Chirp. */
export interface MessageOwner {
  releaseSlot(conn: number, gen: number, slot: number): void;
  reply(msg: Message, data?: Uint8Array | string, options?: { header?: Uint8Array | string }): Promise<Uint8Array>;
}

const decoder = new TextDecoder();

/** A received message: its identity, sender, header and data; release() frees its slot. */
export class Message {
  /** The sender's serial for this frame (protocol.md §2.3). */
  readonly serial: number;
  /** Raw type byte (0x01 = the sender waits for an ACK, protocol.md §2.2). */
  readonly type: number;
  /** Upper-layer protocol header bytes (may be empty). */
  readonly header: Uint8Array;
  /** Data bytes (may be empty). Yours to keep after `release()`. Messages that arrived in one
   * read (up to `bufferSize` bytes) share one buffer, of which `header` and `data` are views:
   * keeping many small messages' data for long keeps their reads' buffers; `data.slice()`
   * keeps only the bytes. */
  readonly data: Uint8Array;
  /** The sender's IP address as text. */
  readonly address: string;
  /** The sender's listening port, from its handshake (protocol.md §3.4): a reply goes there. */
  readonly port: number;
  /** The sender node's identity (from its handshake); it changes when the peer restarts. */
  readonly remoteIdentity: Uint8Array;
  #owner: MessageOwner;
  #conn: number;
  #gen: number;
  #slot: number;
  #released = false;
  /** The identity's bytes are #ids[#idAt .. #idAt + 16]: the identities of one read share a
   * buffer, and a message's own view is made only if it is asked for. */
  #ids: Uint8Array;
  #idAt: number;
  #identity: Uint8Array | null = null;

  /** Made by the engine for each received frame (applications do not construct messages). */
  constructor(
    owner: MessageOwner, conn: number, gen: number, slot: number, ids: Uint8Array, idAt: number,
    serial: number, type: number, header: Uint8Array, data: Uint8Array, address: string,
    port: number, remoteIdentity: Uint8Array,
  ) {
    this.#owner = owner;
    this.#conn = conn;
    this.#gen = gen;
    this.#slot = slot;
    this.#ids = ids;
    this.#idAt = idAt;
    this.serial = serial;
    this.type = type;
    this.header = header;
    this.data = data;
    this.address = address;
    this.port = port;
    this.remoteIdentity = remoteIdentity;
  }

  /** 16-byte message identity; a reply carries the request's identity (protocol.md §2.5). */
  get identity(): Uint8Array {
    return (this.#identity ??= this.#ids.subarray(this.#idAt, this.#idAt + 16));
  }

  /** True once `release()` was called. */
  get released(): boolean {
    return this.#released;
  }

  /** Whether the sender waits for this message's release (synchronous sender). */
  get requiresAck(): boolean {
    return (this.type & 1) !== 0;
  }

  /** The data as UTF-8 text. */
  text(): string {
    return decoder.decode(this.data);
  }

  /** The data parsed as JSON (UTF-8 text); throws a SyntaxError naming the sender when it is
   * not JSON. */
  json<T = unknown>(): T {
    const text = this.text();
    try {
      return JSON.parse(text) as T;
    } catch (e) {
      throw new SyntaxError(`message from ${this.address}:${this.port} is not JSON (${(e as Error).message}): ${JSON.stringify(text.slice(0, 40))}`);
    }
  }

  /** Frees the message's slot so the connection reads on; for a synchronous sender this
   * sends the ACK that settles its `send` (protocol.md §3.6). Idempotent. Releasing after the
   * connection closed is allowed and sends nothing. */
  release(): void {
    if (this.#released) return;
    this.#released = true;
    this.#owner.releaseSlot(this.#conn, this.#gen, this.#slot);
  }

  /** Sends `data` back to the sender with this message's identity, over the connection the
   * message came in on while it lives (protocol.md §5.3). Resolves like `Chirp.send`. Note: a
   * synchronous peer with one slot cannot read the reply until you release this message
   * (protocol.md §10.2): release first, or reply and release without awaiting in between. */
  reply(data?: Uint8Array | string, options?: { header?: Uint8Array | string }): Promise<Uint8Array> {
    return this.#owner.reply(this, data, options);
  }
}

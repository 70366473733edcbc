// Runtime-neutral TLS rules: libchirp's per-connection encryption decision (protocol.md §1.2) and the
// recognition of TLS records where plaintext chirp bytes were expected (an encryption
// mismatch, protocol.md §1.5). No runtime APIs here: the TLS itself lives in the transports.

/** When a connection is TLS-encrypted (config `encryption`, protocol.md §1.2): "auto" (default)
 * encrypts every connection except those whose address is exactly 127.0.0.1 or ::1, "always"
 * encrypts those too, "never" encrypts none. */
export type EncryptionMode = "auto" | "always" | "never";

/** libchirp's rule (protocol.md §1.2): encrypt unless disabled, or the address text (the dialled
 * address for outgoing connections, the peer's source address for incoming ones) is exactly
 * "127.0.0.1" or "::1". "always" encrypts those too (ch_chirp_set_always_encrypt). Other
 * loopback addresses (127.0.0.2, ::ffff:127.0.0.1) are encrypted, as in libchirp. */
export function encryptionNeeded(mode: EncryptionMode, address: string): boolean {
  if (mode === "never") return false;
  if (mode === "always") return true;
  return address !== "127.0.0.1" && address !== "::1";
}

/** The dialler is TLS, the acceptor plaintext: the acceptor's 18-byte chirp handshake reached
 * our TLS client. */
export const PEER_PLAINTEXT = "encryption settings disagree: the peer answered in plaintext";
/** We are plaintext and the peer sent a TLS record. */
export const PEER_TLS = "encryption settings disagree: the peer speaks TLS";

/**
 * Whether the first bytes of a connection are a TLS ClientHello/ServerHello or a TLS alert
 * record rather than a chirp handshake. Checked only on plaintext connections, on the first
 * chunk read.
 *
 * A false positive is practically impossible: a chirp handshake starts with the sender's
 * port (2 bytes) and its random 16-byte identity. To pass as a hello it needs port 5635
 * (0x1603) and identity bytes that spell a record version 03 00..04, handshake type 1 or 2, a
 * 24-bit handshake length of exactly record length - 4 and a hello version 03 00..04: about
 * 2^-44 for a random identity. To pass as an alert it needs port 5379 (0x1503), record version
 * 03 00..04, record length exactly 2 and alert level 1 or 2: about 2^-28 per connection, and
 * only for a peer on that port. Chunks shorter than a record header are not judged (TCP
 * delivers a TLS peer's first flight whole in practice); the worst case is the behaviour
 * without this check: the bytes go to the core, which closes the connection or times out.
 */
export function looksLikeTls(b: Uint8Array): boolean {
  if (b.length < 7 || b[1] !== 0x03 || b[2] > 0x04) return false;
  const recordLen = (b[3] << 8) | b[4];
  if (b[0] === 0x15) return recordLen === 2 && (b[5] === 1 || b[5] === 2); // alert
  if (b[0] !== 0x16 || b.length < 11) return false; // handshake record
  const hsLen = (b[6] << 16) | (b[7] << 8) | b[8];
  return (b[5] === 1 || b[5] === 2) && recordLen >= 4 && hsLen + 4 === recordLen && b[9] === 0x03 && b[10] <= 0x04;
}

/**
 * What a plaintext node writes after its 18-byte handshake once it found that the peer speaks
 * TLS, so that the peer's TLS client fails at once on a record it cannot parse (reported as
 * PEER_PLAINTEXT) instead of waiting for more bytes and seeing the connection close. Our
 * handshake (port, then identity) reads as a TLS record header when the port's low byte is 3
 * (record version 3.x): its length field is then identity bytes 1 and 2, and the 13 bytes after
 * the header are the start of that record's body. This completes the body; for every other
 * port (the first byte check fails at once) it is empty.
 */
export function plaintextTail(port: number, identity: Uint8Array): Uint8Array {
  if ((port & 0xff) !== 0x03) return new Uint8Array(0);
  const recordLen = (identity[1] << 8) | identity[2];
  const sent = 18 - 5;
  return new Uint8Array(recordLen > sent ? recordLen - sent : 0);
}

// What node:tls failures mean, for both directions of TLS (tls/node-tls.ts dials, tls/accept.ts
// accepts): the cipher list (protocol.md §1.3), TLS_ERROR / TIMEOUT errors, and a readable reason for
// each runtime's TLS error codes (OpenSSL on Node, rustls on Deno, BoringSSL on Bun).
import type * as tls from "node:tls";
import { PEER_PLAINTEXT } from "./policy.ts";
import { detectRuntime } from "../runtime.ts";
import type { TransportError } from "../transport.ts";

/** TLS 1.3 suites, ECDHE for modern TLS 1.2 peers, then libchirp's four DHE suites (protocol.md §1.3;
 * a LibreSSL/OpenSSL 1.0 libchirp speaks TLS 1.2 with DHE only). Unknown names are skipped by
 * each TLS library (BoringSSL and rustls have no DHE). */
export const CIPHERS = [
  "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256", "TLS_AES_128_GCM_SHA256",
  "ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-RSA-AES256-GCM-SHA384",
  "ECDHE-ECDSA-CHACHA20-POLY1305", "ECDHE-RSA-CHACHA20-POLY1305",
  "ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256",
  "DHE-RSA-AES256-GCM-SHA384", "DHE-DSS-AES256-GCM-SHA384", "DHE-RSA-AES256-SHA256", "DHE-DSS-AES256-SHA256",
].join(":");

export function tlsError(message: string, code: "TLS_ERROR" | "TIMEOUT" = "TLS_ERROR", cause?: unknown): TransportError {
  const e: TransportError = new Error(message, cause === undefined ? undefined : { cause });
  e.chirpCode = code;
  return e;
}

export const errCode = (e: unknown): string => String((e as { code?: unknown } | null)?.code ?? "");

/** Record-layer errors of a TLS client that read bytes which are no TLS record: a plaintext
 * chirp handshake (see plaintextTail in tls/policy.ts for the port whose handshake starts like
 * a record header). OpenSSL (Node) and BoringSSL (Bun) names; Deno reports the first. */
const PLAINTEXT_CODES = new Set([
  "ERR_SSL_WRONG_VERSION_NUMBER", "ERR_SSL_UNEXPECTED_RECORD", "ERR_SSL_ENCRYPTED_LENGTH_TOO_LONG",
  "ERR_SSL_PACKET_LENGTH_TOO_LONG", "ERR_SSL_RECORD_LENGTH_MISMATCH", "ERR_SSL_UNEXPECTED_MESSAGE",
]);

/** A readable reason for a TLS failure. */
export function reason(e: Error, sock?: tls.TLSSocket): string {
  const code = errCode(e);
  if (PLAINTEXT_CODES.has(code)) return PEER_PLAINTEXT;
  const authErr = (sock as { authorizationError?: unknown } | undefined)?.authorizationError;
  if (authErr) {
    // Deno's client-certificate verifier (rustls/webpki) reports an X.509 v1 certificate with the
    // same code as one from an untrusted CA: name both causes, blame neither.
    const v1 = detectRuntime() === "deno" && authErr === "UNABLE_TO_VERIFY_LEAF_SIGNATURE"
      ? ": it is not signed by a CA among our trust anchors (tls.ca / the certChain), or, on Deno, it is an X.509 v1 certificate (such as libchirp's example cert), which Deno cannot verify as a client certificate: then give that peer a v3 certificate"
      : "";
    return `the peer's certificate was refused (${String(authErr)}${v1})`;
  }
  if (/CERTIFICATE_REQUIRED|certificate required/i.test(code + e.message)) return "the peer refused us: it requires a client certificate";
  if (/PEER_DID_NOT_RETURN_A_CERTIFICATE|no certificates/i.test(code + e.message)) return "the peer sent no certificate";
  if (/NO_SHARED_CIPHER|no shared cipher|NoCipherSuitesInCommon|NoKxGroupsInCommon/i.test(code + e.message)) {
    const rt = (globalThis as { Deno?: unknown; Bun?: unknown }).Deno ? "Deno" : (globalThis as { Bun?: unknown }).Bun ? "Bun" : "";
    return `no cipher suite in common with the peer${rt ? ` (${rt} has no DHE suites: a TLS 1.2 peer that offers only DHE, such as libchirp on LibreSSL, needs a Node peer)` : ""}: ${e.message.split("\n")[0]}`;
  }
  const first = e.message.split("\n")[0];
  return code && !first.includes(code) ? `${first} (${code})` : first;
}

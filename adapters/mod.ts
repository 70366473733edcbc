// The runtime-neutral public API. Runtime entry files (node/entry.ts, ...) re-export this after
// registering their socket transport.
export { Chirp, setDefaultTransport, type Target, type SendOptions } from "./chirp.ts";
export { Message } from "./message.ts";
export { ChirpError, STATUS, type ChirpErrorCode } from "./errors.ts";
export type { ChirpConfig, ResolvedConfig, TlsConfig } from "./config.ts";
export type { EncryptionMode } from "./tls/policy.ts";
export type { Transport, Socket, Listener, ListenOptions, TlsClientConfig, TlsServerConfig, TransportError } from "./transport.ts";
export { coreWasmBytes } from "./core/core.ts";
export { renderPrometheus } from "./monitor/stats.ts";
export type { EventListenOptions } from "./engine/events.ts";
export type { ChirpStats, RemoteStats, Counters, ChirpEvents, OpenEvent, CloseEvent, IdentityEvent } from "./monitor/stats.ts";

// ChirpError: every failure a user sees, with a stable `code` named after libchirp's status
// (protocol.md §4.4) and the matching numeric `status`.

/** Stable error codes (protocol.md §4.4 names without the CH_ prefix). */
export type ChirpErrorCode =
  | "VALUE_ERROR"
  | "PROTOCOL_ERROR"
  | "EADDRINUSE"
  | "FATAL"
  | "TLS_ERROR"
  | "TIMEOUT"
  | "ENOMEM"
  | "SHUTDOWN"
  | "CANNOT_CONNECT"
  | "ABORTED";

/** libchirp's numeric ch_error_t for each code (protocol.md §4.4). */
export const STATUS: Record<ChirpErrorCode, number> = {
  VALUE_ERROR: 1,
  PROTOCOL_ERROR: 3,
  EADDRINUSE: 4,
  FATAL: 5,
  TLS_ERROR: 6,
  TIMEOUT: 9,
  ENOMEM: 10,
  SHUTDOWN: 11,
  CANNOT_CONNECT: 12,
  /** Not libchirp's: a send cancelled by its AbortSignal (outside libchirp's 0..12). */
  ABORTED: 100,
};

const CODE_BY_STATUS = new Map<number, ChirpErrorCode>(
  Object.entries(STATUS).map(([k, v]) => [v, k as ChirpErrorCode]),
);

/** The code for a numeric status (core events carry numbers). */
export function codeOf(status: number): ChirpErrorCode {
  return CODE_BY_STATUS.get(status) ?? "FATAL";
}

/** Every failure of this package: `code` says why (README "Errors"), `status` is libchirp's number. */
export class ChirpError extends Error {
  /** The stable error code (libchirp's status name). */
  readonly code: ChirpErrorCode;
  /** libchirp's numeric status for `code`. */
  readonly status: number;
  /** The message is prefixed with the code ("TIMEOUT: ..."). */
  constructor(code: ChirpErrorCode, message: string, options?: { cause?: unknown }) {
    super(`${code}: ${message}`, options);
    this.name = "ChirpError";
    this.code = code;
    this.status = STATUS[code];
  }
}

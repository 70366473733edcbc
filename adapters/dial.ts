// One dial of the Transport contract's connect() (transport.ts): its callback runs at most
// once, never after the attempt was aborted, and a socket that arrives after the abort is
// closed. Each runtime's transport starts its own connect inside it.
import type { Socket } from "./transport.ts";

export interface DialAttempt<S extends Socket> {
  /** The connection is up: hands it to the caller (returns false, and closes it, if aborted). */
  ok(sock: S): boolean;
  /** The connection failed (ignored once aborted or settled). */
  fail(err: Error): void;
}

/** Runs `start` (which returns how to cancel the attempt) and returns the abort function. */
export function dial<S extends Socket>(
  cb: (err: Error | null, s?: Socket) => void,
  start: (attempt: DialAttempt<S>) => () => void,
): () => void {
  let settled = false;
  let aborted = false;
  let delivered: S | undefined;
  const cancel = start({
    ok(sock) {
      if (aborted || settled) {
        sock.close();
        return false;
      }
      settled = true;
      delivered = sock;
      cb(null, sock);
      return true;
    },
    fail(err) {
      if (aborted || settled) return;
      settled = true;
      cb(err);
    },
  });
  return () => {
    if (aborted) return;
    aborted = true;
    if (delivered) delivered.close();
    else cancel();
  };
}

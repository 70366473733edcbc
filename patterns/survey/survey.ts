// Survey: a surveyor asks every respondent the same question and collects the answers
// until a deadline (nng's SURVEYOR/RESPONDENT; answers after the deadline are dropped).
//
//   surveyor(node, { respondents, timeout })   -> Surveyor
//     .survey(data, { header, timeout, signal }) -> Promise<SurveyResult>
//   respondent(handler)                         -> MessageHandler
//
// One survey is one identity: the SURVEY 0x60/1 goes to every respondent with the same
// identity and each RESPONSE 0x60/2 is a reply carrying it (protocol.md §2.5). Because the
// surveyor knows its respondents, a survey also ends early once every respondent it reached
// has answered (and the others' sends failed). Respondents are named by "address:port";
// use IP addresses so that answers match the names (else the survey runs to its deadline).
import { ChirpError, type Chirp, type Message, type Target } from "../../adapters/mod.ts";
import { OP, PATTERN, decodeHeader, encodeHeader, targetKey } from "../header.ts";
import { newIdentity, routerOf, sameId, type MessageHandler } from "../router.ts";
import { replyParts, type ReplyValue } from "../reqrep/reqrep.ts";

export interface SurveyResult {
  /** Answers in arrival order (each released). */
  responses: { from: string; message: Message }[];
  /** Respondents the survey could not be sent to. */
  failed: { respondent: string; error: unknown }[];
  /** Respondents that got the survey but did not answer before the deadline. */
  missing: string[];
}

export interface SurveyOptions {
  /** Application header, after the pattern prefix. */
  header?: Uint8Array | string;
  /** Deadline in seconds (default: the surveyor's timeout). */
  timeout?: number;
  /** Aborting rejects the survey with `signal.reason`. */
  signal?: AbortSignal;
}

export class Surveyor {
  readonly #node: Chirp;
  readonly #respondents = new Map<string, Target>();
  readonly #timeout: number;

  constructor(node: Chirp, options: { respondents?: Target[]; timeout?: number } = {}) {
    this.#node = node;
    this.#timeout = options.timeout ?? node.config.timeout;
    for (const r of options.respondents ?? []) this.add(r);
    routerOf(node);
  }

  add(respondent: Target): void {
    this.#respondents.set(typeof respondent === "string" ? respondent : targetKey(respondent.address, respondent.port), respondent);
  }

  remove(respondent: Target): void {
    this.#respondents.delete(typeof respondent === "string" ? respondent : targetKey(respondent.address, respondent.port));
  }

  get respondents(): string[] {
    return [...this.#respondents.keys()];
  }

  /** Asks every respondent; resolves at the deadline (or when all answered). */
  survey(data?: Uint8Array | string, options: SurveyOptions = {}): Promise<SurveyResult> {
    const { signal } = options;
    if (signal?.aborted) return Promise.reject(signal.reason);
    const timeout = options.timeout ?? this.#timeout;
    if (!(timeout > 0)) return Promise.reject(new ChirpError("VALUE_ERROR", `survey timeout = ${timeout} s; it must be > 0`));
    const identity = newIdentity();
    const header = encodeHeader(PATTERN.SURVEY, OP.SURVEY.SURVEY, options.header);
    const result: SurveyResult = { responses: [], failed: [], missing: [] };
    // Per respondent: "sending" -> "reached" | "failed"; answered when a response came.
    const state = new Map<string, "sending" | "reached" | "failed">();
    const answered = new Set<string>();
    const targets = [...this.#respondents];
    return new Promise<SurveyResult>((resolve, reject) => {
      let done = false;
      const finish = (err?: unknown): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        stop();
        if (err !== undefined) return reject(err);
        for (const [k, s] of state) if (s !== "failed" && !answered.has(k)) result.missing.push(k);
        resolve(result);
      };
      const check = (): void => {
        for (const [k, s] of state) if (s === "sending" || (s === "reached" && !answered.has(k))) return;
        finish();
      };
      const onAbort = (): void => finish(signal!.reason);
      const stop = routerOf(this.#node).expect(identity, (msg) => {
        const h = decodeHeader(msg.header);
        if (h?.pattern === PATTERN.SURVEY && h.op === OP.SURVEY.SURVEY && sameId(msg.remoteIdentity, this.#node.identity)) return false; // our own survey, looped back
        msg.release();
        const from = targetKey(msg.address, msg.port);
        result.responses.push({ from, message: msg });
        answered.add(from);
        if (state.get(from) === "sending") state.set(from, "reached");
        check();
        return true;
      });
      const timer = setTimeout(() => finish(), timeout * 1000);
      signal?.addEventListener("abort", onAbort, { once: true });
      for (const [k] of targets) state.set(k, "sending");
      if (targets.length === 0) return finish();
      for (const [k, to] of targets) {
        this.#node.send(to, data, { header, identity }).then(
          () => {
            if (state.get(k) === "sending") state.set(k, "reached");
            check();
          },
          (error) => {
            // An answer can come before a sync send fails (the ACK got lost): keep it.
            if (!answered.has(k)) {
              state.set(k, "failed");
              result.failed.push({ respondent: k, error });
            }
            check();
          },
        );
      }
    });
  }
}

/** A surveyor on `node`; `timeout` (seconds) is the default deadline (config.timeout). */
export function surveyor(node: Chirp, options: { respondents?: Target[]; timeout?: number } = {}): Surveyor {
  return new Surveyor(node, options);
}

/**
 * A respondent's handler: takes SURVEY messages, releases them first (protocol.md §10.2), calls
 * `handler(survey, applicationHeader)` and sends its (possibly async) return value back as
 * the RESPONSE. `null` or `undefined` means "no answer"; a handler that throws answers
 * nothing either (the error goes to `onError`).
 */
export function respondent(
  handler: (survey: Message, header: Uint8Array) => ReplyValue | null | Promise<ReplyValue | null>,
  options: { onError?: (err: unknown, survey: Message) => void } = {},
): MessageHandler {
  const onError = options.onError ?? (() => {});
  return (msg) => {
    const h = decodeHeader(msg.header);
    if (h?.pattern !== PATTERN.SURVEY || h.op !== OP.SURVEY.SURVEY) return false;
    msg.release();
    let out: ReplyValue | null | Promise<ReplyValue | null>;
    try {
      out = handler(msg, h.body);
    } catch (e) {
      out = Promise.reject(e);
    }
    Promise.resolve(out).then((v) => {
      if (v === null || v === undefined) return;
      const { data, header } = replyParts(v);
      return msg.reply(data, { header: encodeHeader(PATTERN.SURVEY, OP.SURVEY.RESPONSE, header) });
    }).catch((e) => onError(e, msg));
    return true;
  };
}

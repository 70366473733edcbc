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
// has answered (and the others' sends failed). Respondents are named by "host:port"; an
// answer is matched to the name a send reached its sender by (Chirp.targetOf).
import { ChirpError, type Chirp, type Message, type Target } from "../../adapters/mod.ts";
import { OP, PATTERN, decodeHeader, encodeHeader, targetKey } from "../header.ts";
import { routerOf, type MessageHandler } from "../router.ts";
import { Call, replyParts, run, type ReplyValue } from "../call.ts";

/** What one survey collected by its end: the answers, the failed sends, the silent ones. */
export interface SurveyResult {
  /** Answers in arrival order (each released). */
  responses: { from: string; message: Message }[];
  /** Respondents the survey could not be sent to. */
  failed: { respondent: string; error: unknown }[];
  /** Respondents that got the survey but did not answer before the deadline. */
  missing: string[];
}

/** One survey's application header, deadline and cancellation. */
export interface SurveyOptions {
  /** Application header, after the pattern prefix. */
  header?: Uint8Array | string;
  /** Deadline in seconds (default: the surveyor's timeout). */
  timeout?: number;
  /** Aborting rejects the survey with `signal.reason`. */
  signal?: AbortSignal;
}

/** Asks its respondents the same question and collects their answers until a deadline
 * (see the file comment; made by `surveyor()`). */
export class Surveyor {
  readonly #node: Chirp;
  readonly #respondents = new Map<string, Target>();
  readonly #timeout: number;

  /** `options.respondents`: the nodes to ask (more with `add`); `options.timeout`: the default
   * deadline of a survey in seconds (default: the node's config.timeout). */
  constructor(node: Chirp, options: { respondents?: Target[]; timeout?: number } = {}) {
    this.#node = node;
    this.#timeout = options.timeout ?? node.config.timeout;
    for (const r of options.respondents ?? []) this.add(r);
    routerOf(node);
  }

  /** Asks `respondent` too from the next survey on (a second add of the same one is a no-op). */
  add(respondent: Target): void {
    this.#respondents.set(typeof respondent === "string" ? respondent : targetKey(respondent.address, respondent.port), respondent);
  }

  /** Stops asking `respondent` from the next survey on. */
  remove(respondent: Target): void {
    this.#respondents.delete(typeof respondent === "string" ? respondent : targetKey(respondent.address, respondent.port));
  }

  /** The respondents asked, by name ("host:port", as given), in the order added. */
  get respondents(): string[] {
    return [...this.#respondents.keys()];
  }

  /** Asks every respondent; resolves at the deadline (or when all answered). */
  survey(data?: Uint8Array | string, options: SurveyOptions = {}): Promise<SurveyResult> {
    const { signal } = options;
    if (signal?.aborted) return Promise.reject(signal.reason);
    const timeout = options.timeout ?? this.#timeout;
    if (!(timeout > 0)) return Promise.reject(new ChirpError("VALUE_ERROR", `survey timeout = ${timeout} s; it must be > 0`));
    const result: SurveyResult = { responses: [], failed: [], missing: [] };
    // Per respondent: "sending" -> "reached" | "failed"; answered when a response came.
    const state = new Map<string, "sending" | "reached" | "failed">();
    const answered = new Set<string>();
    const targets = [...this.#respondents];
    const check = (c: Call<SurveyResult>): void => {
      for (const [k, s] of state) if (s === "sending" || (s === "reached" && !answered.has(k))) return;
      c.resolve(result);
    };
    return new Promise<SurveyResult>((resolve, reject) => {
      // Answers after the end (deadline, all answered, abort) are dropped as late.
      const c = new Call<SurveyResult>(this.#node, {
        pattern: PATTERN.SURVEY,
        op: OP.SURVEY.SURVEY,
        header: options.header,
        timeout,
        onTimeout: (c) => c.resolve(result),
        signal,
        take: (msg, _h, c) => {
          msg.release();
          const from = this.#node.targetOf(msg);
          result.responses.push({ from, message: msg });
          answered.add(from);
          if (state.get(from) === "sending") state.set(from, "reached");
          check(c);
          return true;
        },
        settle: (err) => {
          if (err !== undefined) return reject(err);
          for (const [k, s] of state) if (s !== "failed" && !answered.has(k)) result.missing.push(k);
          resolve(result);
        },
      });
      for (const [k] of targets) state.set(k, "sending");
      if (targets.length === 0) return c.resolve(result);
      for (const [k, to] of targets) {
        c.send(to, data,
          () => {
            if (state.get(k) === "sending") state.set(k, "reached");
            check(c);
          },
          (error) => {
            // An answer can come before a sync send fails (the ACK got lost): keep it.
            if (!answered.has(k)) {
              state.set(k, "failed");
              result.failed.push({ respondent: k, error });
            }
            check(c);
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
    run(() => handler(msg, h.body)).then((v) => {
      if (v === null || v === undefined) return;
      const { data, header } = replyParts(v);
      return msg.reply(data, { header: encodeHeader(PATTERN.SURVEY, OP.SURVEY.RESPONSE, header) });
    }).catch((e) => onError(e, msg));
    return true;
  };
}

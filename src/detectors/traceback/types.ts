/**
 * @module
 * The seam between the traceback detector and its per-language parsers.
 *
 * A parser is created when a trace starts and is fed the trace's following lines (log prefixes
 * already removed) one at a time. It only decides where the trace ends; the structure (exceptions,
 * frames) is read once, from the collected lines, when the trace is closed. That keeps the
 * streaming part small and lets each language's structural parse be tested on whole texts.
 */
import type { TraceException, TraceLanguage } from "../../core/types.ts";

/** The line belongs to the trace; more may follow. */
export const TAKE = 0;
/** The line belongs to the trace and the trace is complete. */
export const DONE = 1;
/** The line does not belong: the trace ended before it (the line is looked at afresh). */
export const REJECT = 2;
export type Feed = typeof TAKE | typeof DONE | typeof REJECT;

/** One open trace of one language. */
export interface TraceParser {
  readonly lang: TraceLanguage;
  /** The trace's lines so far (prefixes removed). */
  readonly lines: string[];
  /**
   * The next line of the same source. `newRecord` is true when the line carries a log-record
   * prefix (timestamp, level) that the trace's own lines do not: a new log record, so the trace
   * cannot continue through it. `otherLevel` is true when the line's level prefix names another
   * level than the trace's lines carry (`| INFO |` after `| ERROR |` lines): in a log whose logger
   * prefixes every line, another record; a parser may still skip such a line (interleaved output).
   */
  feed(text: string, newRecord: boolean, otherLevel?: boolean): Feed;
  /** Read the collected lines; null when they turned out not to be a trace (e.g. `panic: false`). */
  finish(): ParsedTrace | null;
}

export interface ParsedTrace {
  /** First-raised → final; never empty. */
  exceptions: TraceException[];
  /** The detection message: the final exception as a person reads it (`KeyError: 'x'`). */
  headline: string;
  /** The final exception's type. */
  exceptionType: string | null;
}

/** First line of a possibly multi-line text. */
export function firstLine(s: string): string {
  const i = s.indexOf("\n");
  return i === -1 ? s : s.slice(0, i);
}

/** `Type: message` (or just one of them), the way most languages print an exception. */
export function typeAndMessage(type: string | null, message: string): string {
  const msg = firstLine(message);
  if (type === null) return msg;
  return msg === "" ? type : `${type}: ${msg}`;
}

/** True for an empty or whitespace-only line. */
export function isBlank(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c !== 32 && c !== 9) return false;
  }
  return true;
}

/** True when the line starts with a space or a tab. */
export function isIndented(s: string): boolean {
  const c = s.charCodeAt(0);
  return c === 32 || c === 9;
}

/** Drop trailing blank lines (in place) and return the array. */
export function trimTrailingBlank(lines: string[]): string[] {
  while (lines.length > 0 && isBlank(lines[lines.length - 1]!)) lines.pop();
  return lines;
}

/** Build a {@link ParsedTrace} whose headline is `Type: message` of the last exception. */
export function parsedFrom(exceptions: TraceException[]): ParsedTrace {
  const last = exceptions[exceptions.length - 1]!;
  return {
    exceptions,
    headline: typeAndMessage(last.type, last.message),
    exceptionType: last.type,
  };
}

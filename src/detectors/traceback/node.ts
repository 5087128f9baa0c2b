/**
 * @module
 * Node.js errors: the error line (`TypeError: msg`, `Error [ERR_X]: msg`, a multi-line message)
 * followed by `    at fn (file:line:col)` / `    at file:line:col` frames (`node:internal/…`,
 * `file:///…`, `async fn`), the code frame Node prints above an uncaught error (`file:line`, the
 * source line, a caret), the `{ code: …, [cause]: … }` property block after the last frame (a
 * `[cause]` is a chained exception with frames of its own), and old Node's
 * `[UnhandledPromiseRejection: …]` line without frames.
 *
 * A Node trace is recognised at its first frame line, looking back at the lines before it.
 */
import type { Frame, TraceException } from "../../core/types.ts";
import { NODE_LEGACY_REJECTION } from "./markers.ts";
import {
  DONE,
  type Feed,
  isBlank,
  type ParsedTrace,
  REJECT,
  TAKE,
  type TraceParser,
  trimTrailingBlank,
  typeAndMessage,
} from "./types.ts";

/** `at fn (location)` or `at location`. */
export const NODE_FRAME =
  /^(\s*)at (?:(.+?) \((.+)\)|((?:file:\/\/|node:|\/|[A-Za-z]:\\|\.).*:\d+:\d+))( \{)?$/;
const LOCATION = /^(.*):(\d+):(\d+)$/;
/** An error line: `Name: msg`, `Name [CODE]: msg`, or a bare `…Error`. */
const HEADER = /^(?:Uncaught )?([A-Za-z_$][\w$.]*)(?: \[([\w.-]+)\])?(?:: (.*)|:?$)/;
const ERROR_NAME = /(?:Error|Exception|Rejection)$/;
const CAUSE = /^\s*\[cause\]: (.*)$/;
const ELIDED = /^\s+\.\.\. \d+ lines? matching cause stack trace \.\.\.$/;
const CODE_LOCATION = /^(?:file:\/\/)?(?:\/|node:|[A-Za-z]:\\|\.)\S*:\d+$/;
const CARET = /^\s*\^+\s*$/;

const FRAMES = 0;
const PROPS = 1;

/** Lines looked back over for the error line above the first frame. */
const MAX_MESSAGE_LINES = 12;
const MAX_PROPS_LINES = 400;
/** An error named inside a longer line: `… - error: TypeError: x`. */
const EMBEDDED_ERROR = /(?:^|[\s:\]])((?:[A-Z][\w$]*)?(?:Error|Exception)(?: \[[\w.-]+\])?: .*)$/;

/** True when `t` is itself an error line (`Name…Error: …`). */
function looksLikeError(t: string): boolean {
  const m = HEADER.exec(t);
  return m !== null && (ERROR_NAME.test(m[1]!) || m[2] !== undefined);
}

/** Lines looked back over, across blank lines, for an error line above TypeScript diagnostics. */
const MAX_DIAGNOSTIC_LINES = 24;

export class NodeTrace implements TraceParser {
  readonly lang = "node" as const;
  readonly lines: string[];
  private state: number;
  private count = 0;

  private constructor(lines: string[], state: number) {
    this.lines = lines;
    this.state = state;
  }

  /** True when `t` is a Node frame line (`at Array.forEach (<anonymous>)` included). */
  static isFrame(t: string): boolean {
    return NODE_FRAME.test(t);
  }

  /** True when `t` is a Node frame line with a `file:line:col` location (enough to open a trace). */
  static isLocatedFrame(t: string): boolean {
    const m = NODE_FRAME.exec(t);
    return m !== null && (m[4] !== undefined || isLocation(m[3]!));
  }

  /** Old Node's `[UnhandledPromiseRejection: …]` line. */
  static startLegacy(text: string): NodeTrace | null {
    if (!NODE_LEGACY_REJECTION.test(text)) return null;
    return new NodeTrace([text], text.endsWith(" {") ? PROPS : FRAMES);
  }

  /**
   * Opened by a frame line; `earlier` are the preceding lines of the same source, oldest first.
   * Returns null for `console.trace` output (`Trace: …`), which is not an error.
   */
  static fromFrame(frame: string, earlier: string[]): { parser: NodeTrace; taken: number } | null {
    // a frame right after another frame: the middle of frames already handled (or refused)
    if (earlier.length > 0 && NodeTrace.isFrame(earlier[earlier.length - 1]!)) return null;
    let header = -1;
    for (let k = earlier.length - 1; k >= 0 && k >= earlier.length - MAX_MESSAGE_LINES; k--) {
      const t = earlier[k]!;
      if (isBlank(t) || NodeTrace.isFrame(t)) break;
      const m = HEADER.exec(t);
      if (
        m &&
        (ERROR_NAME.test(m[1]!) || m[2] !== undefined || (m[3] !== undefined && /^[A-Z]/.test(m[1]!)))
      ) {
        header = k;
        break;
      }
    }
    if (header === -1 && earlier.length > 0 && !isBlank(earlier[earlier.length - 1]!))
      header = earlier.length - 1;
    if (header === -1) header = errorAcrossBlanks(earlier);
    if (header !== -1 && HEADER.exec(earlier[header]!)?.[1] === "Trace") return null;
    let from = header === -1 ? earlier.length : header;
    // a logger's record prefix the prefix parser does not know (`25/10 17:45 [13034] - error: Error: …`)
    let headLine: string | null = null;
    if (header !== -1 && !looksLikeError(earlier[header]!)) {
      const m = EMBEDDED_ERROR.exec(earlier[header]!);
      if (m) headLine = m[1]!;
    }
    // the code frame above an uncaught error: `file:line`, source line, caret line, blank line
    let k = from - 1;
    if (k >= 0 && isBlank(earlier[k]!)) k--;
    if (k >= 2 && CARET.test(earlier[k]!) && CODE_LOCATION.test(earlier[k - 2]!)) from = k - 2;
    const lines = earlier.slice(from);
    if (headLine !== null && from === header) lines[0] = headLine;
    lines.push(frame);
    const parser = new NodeTrace(lines, frame.endsWith(" {") ? PROPS : FRAMES);
    return { parser, taken: lines.length - 1 };
  }

  feed(t: string, newRecord: boolean): Feed {
    if (this.state === FRAMES) {
      if (newRecord) return REJECT;
      if (NodeTrace.isFrame(t) || ELIDED.test(t)) {
        if (t.endsWith(" {")) this.state = PROPS;
      } else return REJECT;
    } else {
      this.lines.push(t);
      if (t === "}" || ++this.count > MAX_PROPS_LINES) return DONE;
      return TAKE;
    }
    this.lines.push(t);
    return TAKE;
  }

  finish(): ParsedTrace {
    return parseNode(this.lines);
  }
}

/**
 * The error line of a trace whose frames come after a blank line (ts-node's TSError prints its
 * TypeScript diagnostics, with `~~~` underlines and blank lines, between the message and the
 * frames): the nearest earlier line that is clearly an error (`Name…Error: …`), not past a frame.
 */
function errorAcrossBlanks(earlier: string[]): number {
  for (let k = earlier.length - 1; k >= 0 && k >= earlier.length - MAX_DIAGNOSTIC_LINES; k--) {
    const t = earlier[k]!;
    if (NodeTrace.isFrame(t)) return -1;
    const m = HEADER.exec(t);
    if (m && ERROR_NAME.test(m[1]!) && m[3] !== undefined) return k;
  }
  return -1;
}

function isLocation(s: string): boolean {
  return LOCATION.test(s);
}

/** Read a whole Node error text (code frame, error line, frames, property block). */
export function parseNode(all: string[]): ParsedTrace {
  const lines = trimTrailingBlank(all.slice());
  let first = 0;
  // skip the code frame
  if (lines.length > 2 && CODE_LOCATION.test(lines[0]!) && lines.slice(1, 4).some((l) => CARET.test(l))) {
    first = lines.findIndex((l, i) => i > 0 && CARET.test(l)) + 1;
    while (first < lines.length && isBlank(lines[first]!)) first++;
  }
  const exceptions: TraceException[] = [];
  const headline = readError(lines, first, 0, exceptions);
  const last = exceptions[exceptions.length - 1]!;
  return {
    exceptions,
    headline: headline ?? typeAndMessage(last.type, last.message),
    exceptionType: last.type,
  };
}

/**
 * Read one error starting at `lines[i]` whose frames are indented deeper than `indent`; its
 * `[cause]` (read recursively) goes before it in `out`. Returns the error's headline.
 */
function readError(lines: string[], i: number, indent: number, out: TraceException[]): string | null {
  const head = lines[i] ?? "";
  const text = head.slice(indent);
  let type: string | null = null;
  let code: string | undefined;
  let message: string;
  const legacy = NODE_LEGACY_REJECTION.test(text);
  const m = legacy ? null : HEADER.exec(text);
  if (legacy) {
    type = "UnhandledPromiseRejection";
    message = text.replace(NODE_LEGACY_REJECTION, "").replace(/\] \{$|\]$/, "");
  } else if (m) {
    type = m[1]!;
    code = m[2];
    message = m[3] ?? "";
  } else {
    message = text;
  }
  const frames: Frame[] = [];
  const own: TraceException = { type, message, frames };
  let j = i + 1;
  // message continuation lines, up to the first frame
  for (; j < lines.length; j++) {
    const l = lines[j]!;
    if (NodeTrace.isFrame(l) || ELIDED.test(l) || l === "}" || CAUSE.test(l)) break;
    own.message += `\n${l}`;
  }
  // the error's own frames
  for (; j < lines.length; j++) {
    const l = lines[j]!;
    if (ELIDED.test(l)) continue;
    const f = NODE_FRAME.exec(l);
    if (!f) break;
    const fr = nodeFrame(f, l.trim());
    if (fr) frames.push(fr);
  }
  // the property block: a [cause] is the error this one wraps, with frames of its own
  let cause: TraceException[] = [];
  for (; j < lines.length; j++) {
    const line = lines[j]!;
    const c = CAUSE.exec(line);
    if (!c) continue;
    const lead = line.length - line.trimStart().length;
    cause = [];
    readError([" ".repeat(lead) + c[1]!, ...lines.slice(j + 1)], 0, lead, cause);
    break;
  }
  out.push(...cause, own);
  if (legacy) return `UnhandledPromiseRejection: ${firstLine(message)}`;
  if (code !== undefined) return `${type} [${code}]: ${firstLine(message)}`;
  return null;
}

function nodeFrame(m: RegExpExecArray, raw: string): Frame | null {
  const where = m[4] ?? m[3]!;
  const loc = LOCATION.exec(where.replace(/ \{$/, ""));
  if (!loc) return null;
  let fn = m[2] ?? null;
  if (fn?.startsWith("async ")) fn = fn.slice(6);
  let file = loc[1]!;
  if (file.startsWith("file://")) file = decodeURIComponent(file.slice(7));
  return { file, line: Number(loc[2]), column: Number(loc[3]), function: fn, raw };
}

function firstLine(s: string): string {
  const i = s.indexOf("\n");
  return i === -1 ? s : s.slice(0, i);
}

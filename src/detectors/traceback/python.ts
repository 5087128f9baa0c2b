/**
 * @module
 * Python tracebacks: plain, chained ("During handling of the above exception…", "The above
 * exception was the direct cause…"), exception groups (`+ Exception Group Traceback` with `| `
 * sub-traces, nested), header-less SyntaxErrors, 3.11+ caret/tilde lines and multi-line messages.
 *
 * Python prints frames outermost first; they are reversed here (innermost first).
 */
import type { Frame, TraceException } from "../../core/types.ts";
import { isPythonChainMarker, isTraceStart, PY_HEADER } from "./markers.ts";
import {
  type Feed,
  isBlank,
  isIndented,
  type ParsedTrace,
  parsedFrom,
  REJECT,
  TAKE,
  type TraceParser,
  trimTrailingBlank,
} from "./types.ts";

const FRAME = /^\s*File "(.*)", line (\d+)(?:, in (.*))?$/;
const EXC_LINE = /^([A-Za-z_][\w.]*)(?::(?: (.*)|$)|$)/;
const GROUP_HEADER = /^( *)\+ Exception Group Traceback \(most recent call last\):/;
const GROUP_SEP = /^\+-+ (?:\d+|\.\.\.) -+$/;
const GROUP_CLOSE = /^\+-+$/;
const HEADER_LINE = /^(?:Exception Group )?Traceback \(most recent call last\):/;
const CARET = /^\s*[~^]+\s*$/;
const SYNTAX_ERROR_LINE = /^[A-Za-z_][\w.]*(?:Error|Warning)(?::|$)/;

const BODY = 0;
const GROUP = 1;
const EXC = 2;
const AFTER = 3;
const GAP = 4;
const CHAIN = 5;

/** How many lines of a multi-line exception message are kept. */
const MAX_MESSAGE_LINES = 50;

export class PythonTrace implements TraceParser {
  readonly lang = "python" as const;
  readonly lines: string[] = [];
  private state: number;
  private groupCol = -1;
  private count = 0;
  /**
   * Started by a bare `File "…", line N` (a SyntaxError has no traceback header): only a
   * `…Error:` line may end it, anything else means it was not a trace.
   */
  private locationOnly = false;

  /** `first` is the header (or first) line; `state` says what it was. */
  private constructor(first: string, state: number, groupCol = -1) {
    this.lines.push(first);
    this.state = state;
    this.groupCol = groupCol;
  }

  /** A trace starting at `text`, or null. Returns the residual (unrecognised) prefix as well. */
  static start(text: string): { parser: PythonTrace; residual: string } | null {
    const m = PY_HEADER.exec(text);
    if (m) {
      const head = m[2]!;
      const g = GROUP_HEADER.exec(head);
      const parser = g ? new PythonTrace(head, GROUP, g[1]!.length) : new PythonTrace(head, BODY);
      return { parser, residual: /\S/.test(m[1]!) ? m[1]! : "" };
    }
    if (/^ {0,4}File "(.+)", line (\d+)$/.test(text)) {
      const parser = new PythonTrace(text, BODY);
      parser.locationOnly = true;
      return { parser, residual: "" };
    }
    return null;
  }

  /**
   * A chain marker seen with no trace open: the cause was printed without a traceback (`raise X from
   * Y()`), as the exception line just before it. `previous` is that line.
   */
  static fromChainMarker(previous: string, marker: string): PythonTrace {
    const p = new PythonTrace(previous, EXC);
    p.lines.push(marker);
    p.state = CHAIN;
    return p;
  }

  feed(t: string, newRecord: boolean): Feed {
    if (newRecord) return REJECT;
    switch (this.state) {
      case BODY:
        if (isBlank(t)) {
          if (++this.count > 2) return REJECT;
        } else if (isIndented(t)) {
          this.count = 0;
        } else if (HEADER_LINE.test(t) || isTraceStart(t)) {
          return REJECT;
        } else if (this.locationOnly && !SYNTAX_ERROR_LINE.test(t)) {
          this.locationOnly = false;
          this.lines.length = 0; // not a trace after all
          return REJECT;
        } else {
          this.state = EXC;
          this.count = 0;
        }
        break;
      case GROUP: {
        // every line of a group has its `|` / `+` margin at the group's column or deeper
        const c = this.groupCol;
        let i = 0;
        while (i < t.length && t.charCodeAt(i) === 32) i++;
        const ch = t[i];
        if (i < c || (ch !== "|" && ch !== "+")) return REJECT;
        if (i === c + 2 && GROUP_CLOSE.test(t.slice(i))) this.state = AFTER;
        break;
      }
      case EXC:
        if (isBlank(t)) {
          this.state = GAP;
          this.count = 0;
        } else if (isPythonChainMarker(t)) {
          this.state = CHAIN;
        } else if (isTraceStart(t) || ++this.count > MAX_MESSAGE_LINES) {
          return REJECT;
        }
        break;
      case AFTER:
        if (isBlank(t)) {
          this.state = GAP;
          this.count = 0;
        } else if (isPythonChainMarker(t)) this.state = CHAIN;
        else return REJECT;
        break;
      case GAP:
        if (isBlank(t)) {
          if (++this.count > 3) return REJECT;
        } else if (isPythonChainMarker(t)) this.state = CHAIN;
        else return REJECT;
        break;
      case CHAIN: {
        if (isBlank(t)) break;
        const g = GROUP_HEADER.exec(t);
        if (g) {
          this.state = GROUP;
          this.groupCol = g[1]!.length;
        } else if (HEADER_LINE.test(t) || /^ {0,4}File "/.test(t)) {
          this.state = BODY;
          this.count = 0;
        } else if (!isIndented(t) && !isTraceStart(t)) {
          this.state = EXC; // a cause printed without a traceback
          this.count = 0;
        } else return REJECT;
        break;
      }
    }
    this.lines.push(t);
    return TAKE;
  }

  finish(): ParsedTrace | null {
    if (this.lines.length === 0 || (this.locationOnly && this.state === BODY)) return null;
    return parsePython(this.lines);
  }
}

/** Read a whole Python trace text (prefixes removed). */
export function parsePython(lines: string[]): ParsedTrace {
  const exceptions = parsePythonLines(trimTrailingBlank(lines.slice()));
  if (exceptions.length === 0) {
    exceptions.push({ type: null, message: "traceback ended before its exception line", frames: [] });
  }
  return parsedFrom(exceptions);
}

/** Exceptions of a Python trace text, first-raised → final. */
export function parsePythonLines(lines: string[]): TraceException[] {
  const out: TraceException[] = [];
  let seg: string[] = [];
  const flush = () => {
    trimTrailingBlank(seg);
    let i = 0;
    while (i < seg.length && isBlank(seg[i]!)) i++;
    if (i < seg.length) {
      const rest = i === 0 ? seg : seg.slice(i);
      const g = GROUP_HEADER.exec(rest[0]!);
      if (g) out.push(...parseGroup(rest, g[1]!.length));
      else {
        const e = parsePlain(rest);
        if (e) out.push(e);
      }
    }
    seg = [];
  };
  for (const line of lines) {
    if (isPythonChainMarker(line) && !isIndented(line)) flush();
    else seg.push(line);
  }
  flush();
  return out;
}

/** One traceback without chaining: frames, then the exception line and its continuation. */
function parsePlain(lines: string[]): TraceException | null {
  const frames: Frame[] = [];
  let type: string | null = null;
  let msg: string[] | null = null;
  let last: Frame | null = null;
  let sawSource = false;
  for (const line of lines) {
    if (msg !== null) {
      msg.push(line);
      continue;
    }
    if (HEADER_LINE.test(line)) continue;
    const f = FRAME.exec(line);
    if (f) {
      last = { file: f[1]!, line: Number(f[2]), function: f[3] ?? null, raw: line.trim() };
      frames.push(last);
      sawSource = false;
      continue;
    }
    if (isIndented(line) || isBlank(line)) {
      if (last && !sawSource && !isBlank(line) && !CARET.test(line) && !/^\s*\[Previous line/.test(line)) {
        last.raw += `\n${line.trim()}`;
        sawSource = true;
      }
      continue;
    }
    const m = EXC_LINE.exec(line);
    if (m) {
      type = m[1]!;
      msg = [m[2] ?? ""];
    } else {
      msg = [line];
    }
  }
  if (msg === null) return frames.length > 0 ? { type: null, message: "", frames: frames.reverse() } : null;
  return { type, message: trimTrailingBlank(msg).join("\n"), frames: frames.reverse() };
}

/**
 * An exception group whose `+`/`|` margin is at column `c`: its own traceback, then numbered
 * sub-blocks (each a trace of its own, possibly a nested group), closed by `+---…` at column c+2.
 * Returns the sub-exceptions (each block's exceptions in order) followed by the group itself.
 */
function parseGroup(lines: string[], c: number): TraceException[] {
  const own: string[] = [];
  const children: string[][] = [];
  let cur: string[] | null = null;
  let i = 0;
  for (; i < lines.length; i++) {
    const line = lines[i]!;
    if (line[c] !== "|" && i > 0) break;
    own.push(line.slice(c + 2));
  }
  for (; i < lines.length; i++) {
    const rest = lines[i]!.slice(c + 2);
    if (GROUP_SEP.test(rest)) {
      cur = [];
      children.push(cur);
    } else if (GROUP_CLOSE.test(rest)) {
      cur = null;
    } else if (cur) {
      cur.push(rest);
    }
  }
  const out: TraceException[] = [];
  for (const child of children) {
    const first = child[0] ?? "";
    if (/^[|+] Exception Group Traceback/.test(first)) {
      out.push(...parseGroup(child, 0));
    } else {
      out.push(...parsePythonLines(child.map((l) => (l.startsWith("| ") ? l.slice(2) : l === "|" ? "" : l))));
    }
  }
  const self = parsePlain(own);
  if (self) out.push(self);
  return out;
}

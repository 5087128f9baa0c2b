/**
 * @module
 * Python tracebacks: plain, chained ("During handling of the above exception…", "The above
 * exception was the direct cause…"), exception groups (`+ Exception Group Traceback` with `| `
 * sub-traces, nested), header-less SyntaxErrors, 3.11+ caret/tilde lines and multi-line messages.
 * Also: partial traces without their `Traceback (most recent call last):` header (a paste, or a log
 * that starts mid-trace; they count only when an exception line ends them), traces whose lines were
 * dedented to column 0 (a source line is then told from the exception line by its shape), the
 * faulthandler's `Fatal Python error:` dump (`File "…", line N in f`, innermost first), and
 * torchrun's `ChildFailedError` whose headline is read from its "Root Cause" block.
 *
 * Python prints frames outermost first; they are reversed here (innermost first).
 */
import type { Frame, TraceException } from "../../core/types.ts";
import { isPythonChainMarker, isTraceStart, PY_FATAL, PY_HEADER } from "./markers.ts";
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
/** A frame line with its function: a partial trace may start here. */
const FRAME_WITH_FN = /^\s*File "(.+)", line (\d+), in (.+)$/;
/**
 * The shape of an exception line (`ValueError: x`, `torch.OutOfMemoryError: …`, `KeyboardInterrupt`),
 * strict enough to tell it from a dedented source line (`main()`, `x = f(y)`).
 */
const EXCEPTION_SHAPE =
  /^(?:[A-Za-z_][\w]*\.)*[A-Z_][\w]*(?:Error|Exception|Warning|Interrupt|Exit|Failure|Fault|Timeout|Stop\w*|Group)(?::(?: .*)?)?$|^(?:[A-Za-z_]\w*\.)+[A-Z]\w*: /;
/** faulthandler's frame line: `  File "x.py", line 3 in f` (no comma before `in`). */
const FAULT_FRAME = /^\s*File "(.*)", line (\d+) in (.*)$/;
const FAULT_THREAD =
  /^(?:Current thread|Thread) 0x[0-9a-f]+ .*\(most recent call first\):$|^Stack \(most recent call first\):$/;

const BODY = 0;
const GROUP = 1;
const EXC = 2;
const AFTER = 3;
const GAP = 4;
const CHAIN = 5;
/** faulthandler's dump: thread headers and `File "…", line N in f` lines. */
const FATAL = 6;

/**
 * Where an exception's message ends. Python prints the message last, and its continuation lines
 * have no shape of their own: a `str()` with newlines, `add_note()` notes, torchrun's summary
 * block, NCCL's `Last error:` lines, pydantic's field list are all plain lines at column 0. A
 * program that catches the exception, prints it (`traceback.print_exc()`) and keeps going prints
 * its own lines right after, also plain. The rule: the message takes the lines after the exception
 * line until the first of
 * - a blank line (Python never ends a message with one; a chain marker may still follow it),
 * - a new log record (a line with a timestamp or level the trace's lines do not carry, or, in a log
 *   whose logger prefixes every line, a line whose level differs from the trace's: `| INFO |` after
 *   the `| ERROR |` lines of the trace) or a line that starts a trace of any language,
 * - a line shaped like the ordinary output of a training job ({@link isOrdinaryOutput}): a metrics
 *   line (`step 101 loss 2.31`, `Epoch 3/10`, `iter 200: loss …`, `train_loss: 2.31`), a metrics
 *   dict as the Hugging Face Trainer prints it (`{'loss': 0.69, …}`) or a JSON log record
 *   (`{"level": "info", …}`),
 * - {@link MAX_MESSAGE_LINES} lines.
 * Other plain output printed right after a caught traceback (`saving checkpoint`) is still taken
 * (up to the cap): nothing tells it from a message line. A real message line shaped like a metrics
 * line at column 0 ends the message early; the trace itself and its headline are unaffected.
 * Inside an exception group Python 3.11 prints a message's later lines without the `|` margin:
 * there the same rule decides whether such a line is the message's or the group's trace ended.
 */
const MAX_MESSAGE_LINES = 50;
/** A metrics line: `step 101 loss 2.31`, `Epoch 3/10`, `[step 101] loss=nan`, `iter 200: loss …`. */
const METRIC_LEAD = /^\[?(?:epoch|step|iter(?:ation)?|batch|global[ _]step|update)\b[\s:=#]*\d/i;
/** A named metric with its value anywhere in the line: `loss 2.31`, `train_loss: 2.31`, `lr=3e-4`. */
const METRIC_VALUE =
  /(?:^|[^A-Za-z0-9])(?:[A-Za-z]+_)?(?:loss|lr|learning_rate|grad_norm|acc|accuracy|ppl|perplexity)['"]?\s*[:=]?\s*[-+]?(?:\d|nan\b|inf\b)/i;
/** A dict / JSON object on one line with a log or metrics key (`'loss':`, `"level":`, `"event":`). */
const RECORD_KEY =
  /["'](?:ts|time|timestamp|@timestamp|asctime|level|levelname|severity|msg|message|event|loss|epoch|step|global_step|learning_rate|(?:eval|train|test|val)_\w+)["']\s*:/;

/** True when a line after the exception line is the program's ordinary output (see above). */
function isOrdinaryOutput(t: string): boolean {
  if (isIndented(t)) return false; // message details (pydantic's, yaml's) are indented
  if (t.startsWith("{")) return t.trimEnd().endsWith("}") && RECORD_KEY.test(t);
  return METRIC_LEAD.test(t) || METRIC_VALUE.test(t);
}

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
  /** Started by a frame line (no header seen): counts only when an exception line ends it. */
  private headerless = false;
  /** The previous line was a frame line (the next non-indented line may be its dedented source). */
  private afterFrame = false;
  /**
   * In a group, the previous line was an exception line, a note or their continuation: Python
   * 3.11 prints the later lines of a multi-line message there without the `|` margin.
   */
  private groupMessage = false;

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
    if (/^\s*File "(.+)", line (\d+)$/.test(text)) {
      const parser = new PythonTrace(text, BODY);
      parser.locationOnly = true;
      return { parser, residual: "" };
    }
    if (FRAME_WITH_FN.test(text)) {
      const parser = new PythonTrace(text, BODY);
      parser.headerless = true;
      parser.afterFrame = true;
      return { parser, residual: "" };
    }
    return null;
  }

  /** faulthandler's `Fatal Python error: …` line (then the threads' frames). */
  static startFatal(text: string): PythonTrace | null {
    const m = PY_FATAL.exec(text);
    return m ? new PythonTrace(text.slice(m[1]!.length), FATAL) : null;
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

  feed(t: string, newRecord: boolean, otherLevel = false): Feed {
    if (newRecord) return REJECT;
    if (otherLevel) {
      // Another level than the trace's lines carry is another log record: a logger (or a relay
      // logging a child's lines) gives every line of one record the same level, and the lines of a
      // multi-line message too. A new timestamp is not taken as the sign: a relay stamps each line
      // it reads, so one trace's lines (and its message's) may carry several, and two records may
      // carry the same one. Inside the frames, ordinary output of another level (stdout relayed at
      // INFO while the trace on stderr is relayed at ERROR, read in between) is skipped, as below.
      if (this.state === BODY && !this.headerless && isOrdinaryOutput(t)) return TAKE;
      return REJECT;
    }
    switch (this.state) {
      case FATAL:
        if (isBlank(t)) {
          if (++this.count > 2) return REJECT;
        } else if (FAULT_FRAME.test(t) || FAULT_THREAD.test(t) || /^\s+<no Python frame>$/.test(t)) {
          this.count = 0;
        } else if (/^(?:Extension modules:|Current thread's C stack|Binary file|\s*\.\.\.$)/.test(t)) {
          this.count = 0;
        } else return REJECT;
        break;
      case BODY: {
        const wasAfterFrame = this.afterFrame;
        this.afterFrame = false;
        if (isBlank(t)) {
          if (++this.count > 2) return REJECT;
        } else if (isIndented(t) || CARET.test(t)) {
          this.count = 0;
          if (FRAME.test(t)) this.afterFrame = true;
        } else if (FRAME.test(t)) {
          // a frame line dedented to column 0
          this.count = 0;
          this.afterFrame = true;
        } else if (HEADER_LINE.test(t) || isTraceStart(t)) {
          return REJECT;
        } else if (this.locationOnly && !SYNTAX_ERROR_LINE.test(t)) {
          this.locationOnly = false;
          this.lines.length = 0; // not a trace after all
          return REJECT;
        } else if (!this.headerless && isOrdinaryOutput(t) && !/^[A-Za-z_][\w.]*:/.test(t)) {
          // the job's own output read in between: the local capture reads stdout and stderr from
          // two pipes, so lines printed after `traceback.print_exc()` returned can come in before
          // the rest of the trace. Not the trace's (not taken into its text), and not its end.
          this.afterFrame = wasAfterFrame;
          return TAKE;
        } else if (wasAfterFrame && !this.locationOnly && !EXCEPTION_SHAPE.test(t)) {
          // the source line of a frame, dedented to column 0
        } else if (this.headerless && !EXCEPTION_SHAPE.test(t)) {
          this.headerless = false;
          this.lines.length = 0; // frame lines without an exception: not a trace
          return REJECT;
        } else {
          this.headerless = false;
          this.state = EXC;
          this.count = 0;
        }
        break;
      }
      case GROUP: {
        // every line of a group has its `|` / `+` margin at the group's column or deeper
        const c = this.groupCol;
        let i = 0;
        while (i < t.length && t.charCodeAt(i) === 32) i++;
        const ch = t[i];
        if (i < c || (ch !== "|" && ch !== "+")) {
          // a message's later line printed without the margin, ended like any message's
          if (!this.groupMessage || isBlank(t) || isTraceStart(t) || isOrdinaryOutput(t)) return REJECT;
          if (++this.count > MAX_MESSAGE_LINES) return REJECT;
          break;
        }
        this.count = 0;
        // `| ValueError: x`, `| a note`: text right after the margin (a frame or source line is indented)
        this.groupMessage =
          ch === "|" && /^\| ?[^\s|+]/.test(t.slice(i)) && !HEADER_LINE.test(t.slice(i + 2));
        if (i === c + 2 && GROUP_CLOSE.test(t.slice(i))) this.state = AFTER;
        break;
      }
      case EXC:
        if (isBlank(t)) {
          this.state = GAP;
          this.count = 0;
        } else if (isPythonChainMarker(t)) {
          this.state = CHAIN;
        } else if (isTraceStart(t) || isOrdinaryOutput(t) || ++this.count > MAX_MESSAGE_LINES) {
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
    if (this.headerless && this.state === BODY) return null;
    if (this.state === FATAL) return parseFaultHandler(this.lines);
    return parsePython(this.lines);
  }
}

/** Read a whole Python trace text (prefixes removed). */
export function parsePython(lines: string[]): ParsedTrace {
  const exceptions = parsePythonLines(trimTrailingBlank(lines.slice()));
  if (exceptions.length === 0) {
    exceptions.push({ type: null, message: "traceback ended before its exception line", frames: [] });
  }
  const parsed = parsedFrom(exceptions);
  const last = exceptions[exceptions.length - 1]!;
  if (last.type?.endsWith("ChildFailedError")) {
    const root = rootCause(last.message);
    if (root !== null) parsed.headline = `${last.type}: ${root}`;
  }
  return parsed;
}

/**
 * torchrun's summary block (`train.py FAILED`, then `Root Cause (first observed failure):` with
 * rank, exitcode and traceback fields) in one line: `train.py FAILED: rank 0 (local_rank: 0)
 * exitcode -9: Signal 9 (SIGKILL) received by PID 14750`. Null when the block is not there.
 */
function rootCause(message: string): string | null {
  const failed = /^(\S.*) FAILED$/m.exec(message)?.[1];
  const at = message.indexOf("Root Cause");
  const block = at === -1 ? message : message.slice(at);
  const rank = /^\s*rank\s*: (.+)$/m.exec(block)?.[1];
  const exitcode = /^\s*exitcode\s*: (-?\d+)/m.exec(block)?.[1];
  const tb = /^\s*traceback\s*: (.+)$/m.exec(block)?.[1];
  if (exitcode === undefined && failed === undefined) return null;
  const parts: string[] = [];
  if (failed !== undefined) parts.push(`${failed} FAILED`);
  const who = [
    rank !== undefined ? `rank ${rank.trim()}` : "",
    exitcode !== undefined ? `exitcode ${exitcode}` : "",
  ]
    .filter((x) => x !== "")
    .join(" ");
  if (who !== "") parts.push(who);
  if (tb !== undefined && !tb.startsWith("To enable traceback")) parts.push(tb.trim());
  return parts.join(": ");
}

/**
 * faulthandler's dump: `Fatal Python error: Segmentation fault`, then per thread a header and
 * `File "…", line N in f` lines, innermost first. The frames are the current thread's (the first
 * block, the one that crashed).
 */
function parseFaultHandler(all: string[]): ParsedTrace {
  const lines = trimTrailingBlank(all.slice());
  const head = PY_FATAL.exec(lines[0] ?? "");
  const message = head?.[2]?.trim() ?? "";
  // one block per thread; the crashing one is `Current thread …` (else the first block)
  const blocks: Frame[][] = [];
  let current = -1;
  for (const line of lines.slice(1)) {
    if (FAULT_THREAD.test(line)) {
      blocks.push([]);
      if (line.startsWith("Current thread")) current = blocks.length - 1;
      continue;
    }
    const f = FAULT_FRAME.exec(line);
    if (f) {
      if (blocks.length === 0) blocks.push([]);
      blocks[blocks.length - 1]!.push({ file: f[1]!, line: Number(f[2]), function: f[3]!, raw: line.trim() });
    }
  }
  const frames = blocks[current === -1 ? 0 : current] ?? [];
  const type = "Fatal Python error";
  return { exceptions: [{ type, message, frames }], headline: `${type}: ${message}`, exceptionType: type };
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
      if (g) out.push(...parseGroup(withGroupMargins(rest), g[1]!.length));
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
  let afterFrame = false;
  for (const line of lines) {
    if (msg !== null) {
      msg.push(line);
      continue;
    }
    if (HEADER_LINE.test(line)) continue;
    const f = FRAME.exec(line);
    const wasAfterFrame = afterFrame;
    afterFrame = f !== null;
    if (f) {
      last = { file: f[1]!, line: Number(f[2]), function: f[3] ?? null, raw: line.trim() };
      frames.push(last);
      sawSource = false;
      continue;
    }
    const dedentedSource =
      wasAfterFrame && !isBlank(line) && !EXCEPTION_SHAPE.test(line) && frames.length > 0;
    if (isIndented(line) || isBlank(line) || CARET.test(line) || dedentedSource) {
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
 * A group's lines with the margin put back in front of the message lines Python 3.11 printed
 * without it (the previous line's `   | `), so the group's structure reads as if it were there.
 */
function withGroupMargins(lines: string[]): string[] {
  let margin = "";
  return lines.map((line) => {
    const m = /^ *\| /.exec(line);
    if (m) {
      margin = m[0];
      return line;
    }
    if (/^ *[|+]/.test(line) || margin === "") return line;
    return margin + line;
  });
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

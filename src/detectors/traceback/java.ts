/**
 * @module
 * Java (and other JVM) stack traces: `Exception in thread "main" java.lang.X: msg`, or a logged
 * `java.lang.X: msg` line found just above the first frame; `\tat pkg.Cls.method(File.java:N)`
 * frames; `Caused by: …` chains; `\t... N more`; `\tSuppressed: …` blocks (kept in the text, not in
 * the exception chain: they are not causes). Java prints the final exception first and its causes
 * below it; the exceptions are reversed here so the root cause comes first.
 */
import type { Frame, TraceException } from "../../core/types.ts";
import { isTraceStart, JAVA_HEADER } from "./markers.ts";
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

/** `at pkg.Cls.method(File.java:12)`; the method and the parenthesised location have no space between. */
export const JAVA_FRAME = /^\s*at ([\w$.<>/@:-]+)\(([^()]*)\)(?: ~?\[[^\]]*\])?$/;
/** An exception line: a qualified class name, or a simple name ending in Exception/Error/Throwable. */
export const JAVA_EXC =
  /^((?:[A-Za-z_$][\w$]*\.)+[\w$]+|[A-Z][\w$]*(?:Exception|Error|Throwable))(?:: (.*))?$/;
/** A qualified exception class inside a longer line (`Error: org.apache.spark.SparkException: …`). */
const EMBEDDED_EXC = /((?:[a-z_$][\w$]*\.)+[A-Z][\w$]*(?:Exception|Error|Throwable))(?:: (.*))?$/;
const MORE = /^\s*\.\.\. \d+ (?:more|common frames omitted)$/;
const CAUSED = /^Caused by: (.*)$/;
const SUPPRESSED = /^\s+Suppressed: /;

const HEAD = 0;
const FRAMES = 1;
const SUPP = 2;

const MAX_MESSAGE_LINES = 20;

export class JavaTrace implements TraceParser {
  readonly lang = "java" as const;
  readonly lines: string[];
  private state: number;
  private count = 0;

  private constructor(lines: string[], state: number) {
    this.lines = lines;
    this.state = state;
  }

  /** `Exception in thread "…" X: msg`, and the unrecognised prefix before it. */
  static start(text: string): { parser: JavaTrace; residual: string } | null {
    const m = JAVA_HEADER.exec(text);
    if (!m) return null;
    return { parser: new JavaTrace([text.slice(m[1]!.length)], HEAD), residual: m[1]! };
  }

  /**
   * Opened by a frame line: `earlier` are the preceding lines of the same source (oldest first).
   * The exception line is the nearest one that looks like one (a multi-line message sits between);
   * failing that, the line just before the frame.
   */
  static fromFrame(frame: string, earlier: string[]): { parser: JavaTrace; taken: number } | null {
    // a frame right after another frame: the middle of frames already handled
    const prev = earlier[earlier.length - 1];
    if (prev !== undefined && (JAVA_FRAME.test(prev) || MORE.test(prev))) return null;
    let header = -1;
    for (let k = earlier.length - 1; k >= 0 && k >= earlier.length - MAX_MESSAGE_LINES; k--) {
      const t = earlier[k]!;
      if (JAVA_FRAME.test(t) || isBlank(t)) break;
      if (JAVA_EXC.test(t) || JAVA_HEADER.test(t)) {
        header = k;
        break;
      }
    }
    if (header === -1 && earlier.length > 0 && !isBlank(earlier[earlier.length - 1]!))
      header = earlier.length - 1;
    const lines = header === -1 ? [] : earlier.slice(header);
    lines.push(frame);
    return { parser: new JavaTrace(lines, FRAMES), taken: lines.length - 1 };
  }

  feed(t: string, newRecord: boolean): Feed {
    if (newRecord) return REJECT;
    if (JAVA_FRAME.test(t) || MORE.test(t)) {
      if (this.state === HEAD) this.state = FRAMES;
    } else if (t === "Driver stacktrace:" && this.state === FRAMES) {
      // Spark: the executor's frames, then the driver's, of the same failure
    } else if (CAUSED.test(t)) {
      this.state = HEAD;
      this.count = 0;
    } else if (this.state === SUPP) {
      if (!isIndented(t)) return REJECT;
    } else if (SUPPRESSED.test(t)) {
      this.state = SUPP;
    } else if (this.state === HEAD) {
      if (isBlank(t) || isTraceStart(t) || ++this.count > MAX_MESSAGE_LINES) return REJECT;
    } else return REJECT;
    this.lines.push(t);
    return TAKE;
  }

  finish(): ParsedTrace {
    return parseJava(this.lines);
  }
}

/** Read a whole Java trace text. */
export function parseJava(all: string[]): ParsedTrace {
  const lines = trimTrailingBlank(all.slice());
  const printed: TraceException[] = [];
  let cur: TraceException | null = null;
  let inHead = false;
  let suppressed = false;
  const open = (text: string) => {
    const m = JAVA_EXC.exec(text) ?? EMBEDDED_EXC.exec(text);
    cur = m ? { type: m[1]!, message: m[2] ?? "", frames: [] } : { type: null, message: text, frames: [] };
    printed.push(cur);
    inHead = true;
    suppressed = false;
  };
  for (const line of lines) {
    const h = JAVA_HEADER.exec(line);
    const c = CAUSED.exec(line);
    if (printed.length === 0 && h) open(h[3]!);
    else if (c) open(c[1]!);
    else if (suppressed) {
      // a suppressed exception's own lines
    } else if (SUPPRESSED.test(line)) suppressed = true;
    else if (printed.length === 0 && !JAVA_FRAME.test(line)) open(line);
    else if (cur !== null) {
      const e: TraceException = cur;
      const f = JAVA_FRAME.exec(line);
      if (f) {
        inHead = false;
        const frame = javaFrame(f[1]!, f[2]!, line.trim());
        if (frame) e.frames.push(frame);
      } else if (inHead && !MORE.test(line)) e.message += `\n${line}`;
    }
  }
  if (printed.length === 0) printed.push({ type: null, message: "", frames: [] });
  return parsedFrom(printed.reverse());
}

function javaFrame(method: string, where: string, raw: string): Frame | null {
  const m = /^(.*):(\d+)$/.exec(where);
  if (!m) return null; // Native Method, Unknown Source: no line to point at
  const fn = method.replace(/^.*\//, "");
  // Java prints only the file name; the package gives its directory (com/example/Main.java)
  const parts = fn.split(".");
  const pkg = parts.slice(0, -2).filter((p) => /^[a-z_]/.test(p));
  const file = pkg.length > 0 && !m[1]!.includes("/") ? `${pkg.join("/")}/${m[1]!}` : m[1]!;
  return { file, line: Number(m[2]), function: fn, raw };
}

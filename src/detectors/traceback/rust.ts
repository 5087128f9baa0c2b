/**
 * @module
 * Rust panics. Formats: `thread 'main' panicked at 'msg', src/main.rs:5:10` (before 1.73),
 * `thread 'main' panicked at src/main.rs:5:10:` followed by the message lines (1.73+; 1.9x adds the
 * thread id: `thread 'main' (1234) panicked at …`), then either the
 * `note: run with \`RUST_BACKTRACE=1\`…` line or a `stack backtrace:` of `N: path::to::fn` lines,
 * each optionally followed by `at ./src/main.rs:5:10` (and with `RUST_BACKTRACE=full`, an address:
 * `N: 0x55… - path::to::fn`). Without a backtrace the panic location is the only frame.
 *
 * `cargo test` output: the harness names each test's thread after the test, so a panic's thread
 * tells which test it is. The panic of a `#[should_panic]` test that passes (the harness shows it
 * only with `--nocapture` / `--show-output`) is the test working, not a failure: it is read as a
 * trace (its lines are not looked at again) but not reported when
 * - the line just before it announced that test as a should-panic test (`test x - should panic ...
 *   `, `--test-threads=1`) and the harness's next line after the panic's own lines is `ok`
 *   (`FAILED`, or anything else, and it is reported: the trace waits for that one line only in
 *   this case, every other panic is reported exactly as before),
 * - the panic sits in the `successes:` section of `--show-output` (under `---- x stdout ----`),
 * - or `test x - should panic ... ok` (or `test x ... ok`: a test that caught the panic) for its
 *   own thread arrives while its trace is still open.
 * With tests running in parallel the result line usually comes after the trace has closed (a
 * `note:` line or another test's panic ends it first): that panic is still reported, since waiting
 * for a result line would delay every real panic. docs/detection.md ("Limits") says so.
 * A result line of the panicking test that is not `ok` (`FAILED`, also a bare one after an
 * announced `test x ... `) ends the trace before it; other tests' result lines interleaved with a
 * panic (also in the middle of its backtrace) neither end it nor are part of its message.
 */
import type { Frame } from "../../core/types.ts";
import { isTraceStart, RUST_HEADER } from "./markers.ts";
import {
  DONE,
  type Feed,
  isBlank,
  type ParsedTrace,
  REJECT,
  TAKE,
  type TraceParser,
  trimTrailingBlank,
} from "./types.ts";

const NEW_LOCATION = /^(.+):(\d+):(\d+):$/;
const OLD_TAIL = /^(.*)', (.+):(\d+):(\d+)$/s;
const BT_FRAME = /^\s*(\d+): +(?:0x[0-9a-f]+ - )?(.+)$/;
/** `at file:line:col` (Windows and old toolchains print `at file:line`). */
const BT_AT = /^\s+at (.+?):(\d+)(?::(\d+))?$/;

const MSG = 0;
const OLD_MSG = 1;
const AFTER = 2;
const BT = 3;
/** After the `note:` line of an announced should-panic test: its result (`ok`, `FAILED`) is next. */
const RESULT = 4;

const MAX_MESSAGE_LINES = 50;

/** libtest's announcement of a test run one at a time: `test x ... `, `test x - should panic ... `. */
const ANNOUNCEMENT = /^test (\S+) (- should panic )?\.\.\. ?$/;
/** libtest's result line: `test x ... ok`, `test x - should panic ... FAILED`. */
const TEST_RESULT = /^test (\S+) (?:- should panic )?\.\.\. (ok|FAILED|ignored)\b/;
/** `---- x stdout ----`: a test's captured output (`--show-output`, or a failure's). */
const CAPTURED_OUTPUT = /^---- (\S+) stdout ----$/;

/** How the harness around a panic says it went (see the module comment). */
const NO_TEST = 0;
/** Announced as a should-panic test just before: waits for its result line. */
const ANNOUNCED = 1;
/** A passing test's panic (the result said `ok`, or it is in the `successes:` section). */
const PASSED = 2;
/** Announced as an ordinary test just before: its result line ends the trace, nothing waits for it. */
const ANNOUNCED_PLAIN = 3;

export class RustTrace implements TraceParser {
  readonly lang = "rust" as const;
  readonly lines: string[] = [];
  private state: number;
  private count = 0;
  /** The panicking thread's name (`tests::x` under the test harness). */
  private readonly thread: string;
  private test = NO_TEST;
  /** Other tests' result lines taken so far (bounded like a message). */
  private harnessLines = 0;

  private constructor(first: string, state: number, thread: string) {
    this.lines.push(first);
    this.state = state;
    this.thread = thread;
  }

  /**
   * A trace starting at `text`, and the unrecognised prefix before `thread '…'`. `before` is the
   * same source's lines before it, oldest first (prefixes removed): the test harness's context.
   */
  static start(text: string, before: readonly string[] = []): { parser: RustTrace; residual: string } | null {
    const m = RUST_HEADER.exec(text);
    if (!m) return null;
    const rest = m[3]!;
    let state = MSG;
    if (!NEW_LOCATION.test(rest)) state = OLD_TAIL.test(rest.slice(1)) ? AFTER : OLD_MSG;
    const parser = new RustTrace(text.slice(m[1]!.length), state, m[2]!);
    parser.test = harnessContext(m[2]!, before);
    return { parser, residual: m[1]! };
  }

  feed(t: string, newRecord: boolean): Feed {
    if (newRecord) return REJECT;
    const trimmed = t.trimStart();
    const r = TEST_RESULT.exec(t);
    if (r !== null && r[1] === this.thread) {
      // the harness's verdict on the panicking test itself: `ok` is a should-panic test (or one
      // that caught the panic) passing
      if (r[2] !== "ok") return REJECT;
      this.test = PASSED;
      this.lines.push(t);
      return DONE;
    }
    if (r !== null && this.state !== RESULT) {
      // another test's result, printed by the harness in the middle of this panic's lines
      if (++this.harnessLines > MAX_MESSAGE_LINES) return REJECT;
      this.lines.push(t);
      return TAKE;
    }
    if ((this.test === ANNOUNCED || this.test === ANNOUNCED_PLAIN) && (t === "ok" || t === "FAILED")) {
      // `--test-threads=1`: the result ends the line the announcement began
      if (t === "FAILED") return REJECT;
      this.test = PASSED;
      this.lines.push(t);
      return DONE;
    }
    switch (this.state) {
      case MSG:
      case OLD_MSG:
        if (trimmed.startsWith("note: ")) return this.note(t);
        if (trimmed === "stack backtrace:") this.state = BT;
        else if (isBlank(t) || isTraceStart(t) || ++this.count > MAX_MESSAGE_LINES) return REJECT;
        else if (this.state === OLD_MSG && OLD_TAIL.test(t)) this.state = AFTER;
        break;
      case AFTER:
        if (trimmed.startsWith("note: ")) return this.note(t);
        if (trimmed === "stack backtrace:") this.state = BT;
        else return REJECT;
        break;
      case BT:
        if (trimmed.startsWith("note: ")) return this.note(t);
        if (!BT_FRAME.test(t) && !BT_AT.test(t)) return REJECT;
        break;
      case RESULT:
        return REJECT; // not `ok`: the announced test did not pass
    }
    this.lines.push(t);
    return TAKE;
  }

  /** The `note:` line ends the panic's own lines; an announced test's result line comes next. */
  private note(t: string): Feed {
    this.lines.push(t);
    if (this.test !== ANNOUNCED) return DONE;
    this.state = RESULT;
    return TAKE;
  }

  finish(): ParsedTrace | null {
    return this.test === PASSED ? null : parseRust(this.lines);
  }
}

/**
 * What the test harness's lines before a panic of thread `thread` say: announced as a
 * (should-panic) test (the line just before), a passing test's output (`---- thread stdout ----` in
 * the `successes:` section of `--show-output`), or nothing known.
 */
function harnessContext(thread: string, before: readonly string[]): number {
  let i = before.length - 1;
  const a = ANNOUNCEMENT.exec(before[i] ?? "");
  if (a !== null && a[1] === thread) return a[2] !== undefined ? ANNOUNCED : ANNOUNCED_PLAIN;
  while (i >= 0 && isBlank(before[i]!)) i--;
  if (CAPTURED_OUTPUT.exec(before[i] ?? "")?.[1] !== thread) return NO_TEST;
  for (i--; i >= 0; i--) {
    const l = before[i]!;
    if (l === "successes:") return PASSED;
    if (l === "failures:") return NO_TEST;
  }
  return NO_TEST;
}

/** Read a whole Rust panic text. */
export function parseRust(all: string[]): ParsedTrace {
  const lines = trimTrailingBlank(all.slice());
  const head = RUST_HEADER.exec(lines[0] ?? "");
  let location = "";
  let message = "";
  let i = 1;
  const frames: Frame[] = [];
  let panicFrame: Frame | null = null;
  if (head) {
    const rest = head[3]!;
    const nl = NEW_LOCATION.exec(rest);
    if (nl) {
      location = rest.slice(0, -1);
      const msg: string[] = [];
      for (; i < lines.length; i++) {
        const t = lines[i]!.trimStart();
        if (t.startsWith("note: ") || t === "stack backtrace:") break;
        // other tests' result lines, interleaved by the harness, are not the message
        if (!TEST_RESULT.test(lines[i]!)) msg.push(lines[i]!);
      }
      message = msg.join("\n");
      panicFrame = {
        file: nl[1]!,
        line: Number(nl[2]),
        column: Number(nl[3]),
        function: null,
        raw: lines[0]!,
      };
    } else {
      // old format: 'msg', file:line:col — the message may span lines
      let text = rest;
      while (!OLD_TAIL.test(text.slice(1)) && i < lines.length) {
        const t = lines[i]!.trimStart();
        if (t.startsWith("note: ") || t === "stack backtrace:") break;
        text += `\n${lines[i++]!}`;
      }
      const m = OLD_TAIL.exec(text.startsWith("'") ? text.slice(1) : text);
      if (m) {
        message = m[1]!;
        location = `${m[2]!}:${m[3]!}:${m[4]!}`;
        panicFrame = {
          file: m[2]!,
          line: Number(m[3]),
          column: Number(m[4]),
          function: null,
          raw: lines[0]!,
        };
      } else {
        message = text;
      }
    }
  }
  for (; i < lines.length; i++) {
    const f = BT_FRAME.exec(lines[i]!);
    if (!f) continue;
    const at = BT_AT.exec(lines[i + 1] ?? "");
    if (at) {
      frames.push({
        file: at[1]!,
        line: Number(at[2]),
        ...(at[3] !== undefined ? { column: Number(at[3]) } : {}),
        function: f[2]!.trim(),
        raw: `${lines[i]!.trim()}\n${lines[i + 1]!.trim()}`,
      });
      i++;
    }
  }
  // The panic machinery's own frames (std, core) stay first, as Rust prints them (the golden
  // fixtures pin that); the first frame that is not the standard library is the detection's
  // project frame (src/detectors/project-frame.ts).
  if (frames.length === 0 && panicFrame) frames.push(panicFrame);
  const headline = location ? `panicked at ${location}: ${firstLineOf(message)}` : `panicked: ${message}`;
  return { exceptions: [{ type: "panic", message, frames }], headline, exceptionType: "panic" };
}

function firstLineOf(s: string): string {
  const i = s.indexOf("\n");
  return i === -1 ? s : s.slice(0, i);
}

/** A frame of Rust's standard library (the panic machinery, `Result::unwrap`, thread start). */
export function isRustStd(f: Frame): boolean {
  const fn = f.function ?? "";
  return (
    /^<?(?:(?:std|core|alloc)(?:\[[0-9a-f]+\])?::|__rustc::|rust_begin_unwind|__rust_)/.test(fn) ||
    f.file.startsWith("/rustc/") ||
    /[\\/]library[\\/](?:std|core|alloc)[\\/]src[\\/]/.test(f.file)
  );
}

/**
 * @module
 * Rust panics. Formats: `thread 'main' panicked at 'msg', src/main.rs:5:10` (before 1.73),
 * `thread 'main' panicked at src/main.rs:5:10:` followed by the message lines (1.73+; 1.9x adds the
 * thread id: `thread 'main' (1234) panicked at …`), then either the
 * `note: run with \`RUST_BACKTRACE=1\`…` line or a `stack backtrace:` of `N: path::to::fn` lines,
 * each optionally followed by `at ./src/main.rs:5:10` (and with `RUST_BACKTRACE=full`, an address:
 * `N: 0x55… - path::to::fn`). Without a backtrace the panic location is the only frame.
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

const MAX_MESSAGE_LINES = 50;

export class RustTrace implements TraceParser {
  readonly lang = "rust" as const;
  readonly lines: string[] = [];
  private state: number;
  private count = 0;

  private constructor(first: string, state: number) {
    this.lines.push(first);
    this.state = state;
  }

  /** A trace starting at `text`, and the unrecognised prefix before `thread '…'`. */
  static start(text: string): { parser: RustTrace; residual: string } | null {
    const m = RUST_HEADER.exec(text);
    if (!m) return null;
    const rest = m[3]!;
    let state = MSG;
    if (!NEW_LOCATION.test(rest)) state = OLD_TAIL.test(rest.slice(1)) ? AFTER : OLD_MSG;
    return { parser: new RustTrace(text.slice(m[1]!.length), state), residual: m[1]! };
  }

  feed(t: string, newRecord: boolean): Feed {
    if (newRecord) return REJECT;
    const trimmed = t.trimStart();
    switch (this.state) {
      case MSG:
      case OLD_MSG:
        if (trimmed.startsWith("note: ")) {
          this.lines.push(t);
          return DONE;
        }
        if (trimmed === "stack backtrace:") this.state = BT;
        else if (isBlank(t) || isTraceStart(t) || ++this.count > MAX_MESSAGE_LINES) return REJECT;
        else if (this.state === OLD_MSG && OLD_TAIL.test(t)) this.state = AFTER;
        break;
      case AFTER:
        if (trimmed.startsWith("note: ")) {
          this.lines.push(t);
          return DONE;
        }
        if (trimmed === "stack backtrace:") this.state = BT;
        else return REJECT;
        break;
      case BT:
        if (trimmed.startsWith("note: ")) {
          this.lines.push(t);
          return DONE;
        }
        if (!BT_FRAME.test(t) && !BT_AT.test(t)) return REJECT;
        break;
    }
    this.lines.push(t);
    return TAKE;
  }

  finish(): ParsedTrace {
    return parseRust(this.lines);
  }
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
        msg.push(lines[i]!);
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

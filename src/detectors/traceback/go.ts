/**
 * @module
 * Go panics and fatal errors: `panic: …` (with `[recovered]` / nested `\tpanic: …` chains) or
 * `fatal error: …`, then goroutine dumps (`goroutine N [running]:`, a function line followed by
 * `\tfile.go:N +0x…`). A `panic:` line only counts once a goroutine line follows, so a config dump
 * printing `panic: false` is not a trace. Frames come from the first goroutine (the one that
 * failed), innermost first as Go prints them.
 */
import type { Frame, TraceException } from "../../core/types.ts";
import { GO_HEADER, isTraceStart } from "./markers.ts";
import {
  type Feed,
  isBlank,
  type ParsedTrace,
  parsedFrom,
  REJECT,
  TAKE,
  type TraceParser,
  trimTrailingBlank,
} from "./types.ts";

const GOROUTINE = /^goroutine \d+/;
const FILE_LINE = /^\t(.+?):(\d+)(?: \+0x[0-9a-f]+)?$/;
const FUNC_ARGS = /^(.*?)\((?:[^()]*)\)$/;
const NESTED_PANIC = /^\t?(panic|fatal error): (.*)$/;
const RECOVERED = / \[recovered(?:, repanicked)?\]$/;

const HEAD = 0;
const STACK = 1;
const GAP = 2;

/** Lines of panic message (or other text) allowed before the first goroutine line. */
const MAX_HEAD_LINES = 12;

export class GoTrace implements TraceParser {
  readonly lang = "go" as const;
  readonly lines: string[] = [];
  private state = HEAD;
  private count = 0;
  private confirmed = false;

  private constructor(first: string) {
    this.lines.push(first);
  }

  static start(text: string): GoTrace | null {
    return GO_HEADER.test(text) ? new GoTrace(text) : null;
  }

  feed(t: string, newRecord: boolean): Feed {
    if (newRecord) return REJECT;
    switch (this.state) {
      case HEAD:
        if (GOROUTINE.test(t)) {
          this.state = STACK;
          this.confirmed = true;
        } else if (!isBlank(t) && !NESTED_PANIC.test(t) && !t.startsWith("[signal ")) {
          if (isTraceStart(t) || ++this.count > MAX_HEAD_LINES) return REJECT;
        }
        break;
      case STACK:
        if (isBlank(t)) this.state = GAP;
        else if (t.charCodeAt(0) === 9 || GOROUTINE.test(t) || t.startsWith("created by ")) {
          // file line, goroutine header, creator
        } else if (t.endsWith(")") && !/\s/.test(t[0]!) && !t.startsWith("exit status")) {
          // function line
        } else if (t === "...additional frames elided..." || t === "runtime stack:") {
          // part of the dump
        } else return REJECT;
        break;
      case GAP:
        if (isBlank(t)) break;
        if (GOROUTINE.test(t) || t === "runtime stack:") this.state = STACK;
        else return REJECT;
        break;
    }
    this.lines.push(t);
    return TAKE;
  }

  finish(): ParsedTrace | null {
    return this.confirmed ? parseGo(this.lines) : null;
  }
}

/** Read a whole Go panic text. */
export function parseGo(all: string[]): ParsedTrace {
  const lines = trimTrailingBlank(all.slice());
  const exceptions: TraceException[] = [];
  let i = 0;
  for (; i < lines.length; i++) {
    const line = lines[i]!;
    if (GOROUTINE.test(line)) break;
    const m = NESTED_PANIC.exec(line);
    if (m) {
      exceptions.push({ type: m[1]!, message: m[2]!.replace(RECOVERED, ""), frames: [] });
    } else if (!isBlank(line) && !line.startsWith("[signal ") && exceptions.length > 0) {
      const last = exceptions[exceptions.length - 1]!;
      last.message += `\n${line}`;
    }
  }
  if (exceptions.length === 0) exceptions.push({ type: "panic", message: "", frames: [] });
  const frames: Frame[] = [];
  // the first goroutine's frames: a function line, then its `\tfile:line` line
  for (i++; i < lines.length; i++) {
    const line = lines[i]!;
    if (isBlank(line) || GOROUTINE.test(line)) break;
    const loc = FILE_LINE.exec(lines[i + 1] ?? "");
    if (line.charCodeAt(0) !== 9 && loc) {
      let fn = line;
      if (fn.startsWith("created by ")) fn = `created by ${fn.slice(11).replace(/ in goroutine \d+$/, "")}`;
      else fn = FUNC_ARGS.exec(fn)?.[1] ?? fn;
      frames.push({ file: loc[1]!, line: Number(loc[2]), function: fn, raw: `${line}\n${lines[i + 1]!}` });
      i++;
    }
  }
  for (const e of exceptions) e.message = trimTrailingBlank(e.message.split("\n")).join("\n");
  exceptions[exceptions.length - 1]!.frames = frames;
  return parsedFrom(exceptions);
}

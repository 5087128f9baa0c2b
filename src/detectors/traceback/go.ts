/**
 * @module
 * Go panics and fatal errors: `panic: …` (with `[recovered]` / nested `\tpanic: …` chains) or
 * `fatal error: …`, then goroutine dumps (`goroutine N [running]:`, a function line followed by
 * `\tfile.go:N +0x…`). A `panic:` line only counts once a goroutine line follows, so a config dump
 * printing `panic: false` is not a trace. Frames come from the first goroutine (the one that
 * failed), innermost first as Go prints them, with any indentation (logs re-indent dumps), inlined
 * frames (`(...)`), `created by … in goroutine N` lines and `fp=… sp=… pc=…` suffixes. Frames of
 * the Go runtime itself (`runtime.gopark`, `panic(…)`, `runtime.throw`, `internal/runtime/…`) at the
 * top of the stack are left out of the frame list (they stay in the text): the innermost frame
 * reported is the first one that is not the runtime, which is where the failure is.
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

const GOROUTINE = /^\s*goroutine \d+/;
const FILE_LINE = /^\s+(.+?):(\d+)(?: \+0x[0-9a-f]+)?(?: fp=\S+ sp=\S+ pc=\S+)?$/;
/** A function line: `pkg.fn(args)`, `pkg.(*T).m(...)`, `panic({0x…})`, any indentation. */
const FUNC_LINE = /^\s*\S+\(.*\)$/;
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
    const trimmed = t.trim();
    switch (this.state) {
      case HEAD:
        if (GOROUTINE.test(t) || trimmed === "runtime stack:") {
          this.state = STACK;
          this.confirmed = true;
        } else if (!isBlank(t) && !NESTED_PANIC.test(t) && !trimmed.startsWith("[signal ")) {
          if (isTraceStart(t) || ++this.count > MAX_HEAD_LINES) return REJECT;
        }
        break;
      case STACK:
        if (isBlank(t)) this.state = GAP;
        else if (GOROUTINE.test(t) || trimmed.startsWith("created by ") || FILE_LINE.test(t)) {
          // goroutine header, creator, file line
        } else if (FUNC_LINE.test(t) && !trimmed.startsWith("exit status")) {
          // function line
        } else if (trimmed === "...additional frames elided..." || trimmed === "runtime stack:") {
          // part of the dump
        } else return REJECT;
        break;
      case GAP:
        if (isBlank(t)) break;
        if (GOROUTINE.test(t) || trimmed === "runtime stack:") this.state = STACK;
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
    if (GOROUTINE.test(line) || line.trim() === "runtime stack:") break;
    const m = NESTED_PANIC.exec(line);
    if (m) {
      exceptions.push({ type: m[1]!, message: m[2]!.replace(RECOVERED, ""), frames: [] });
    } else if (!isBlank(line) && !line.trim().startsWith("[signal ") && exceptions.length > 0) {
      const last = exceptions[exceptions.length - 1]!;
      last.message += `\n${line}`;
    }
  }
  if (exceptions.length === 0) exceptions.push({ type: "panic", message: "", frames: [] });
  // the failing goroutine: the first `goroutine N` block (a `runtime stack:` block before it is
  // the runtime's own stack)
  if (lines[i]?.trim() === "runtime stack:") {
    let j = i + 1;
    while (j < lines.length && !GOROUTINE.test(lines[j]!)) j++;
    if (j < lines.length) i = j;
  }
  const stack: Frame[] = [];
  // the first goroutine's frames: a function line, then its `\tfile:line` line
  for (i++; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === "" || GOROUTINE.test(line)) break;
    const loc = FILE_LINE.exec(lines[i + 1] ?? "");
    if (loc && !FILE_LINE.test(lines[i]!)) {
      let fn = line;
      if (fn.startsWith("created by ")) fn = `created by ${fn.slice(11).replace(/ in goroutine \d+$/, "")}`;
      else fn = FUNC_ARGS.exec(fn)?.[1] ?? fn;
      stack.push({
        file: loc[1]!,
        line: Number(loc[2]),
        function: fn,
        raw: `${line}\n${lines[i + 1]!.trim()}`,
      });
      i++;
    }
  }
  let skip = 0;
  while (skip < stack.length && isGoRuntime(stack[skip]!)) skip++;
  const frames = skip < stack.length ? stack.slice(skip) : stack;
  for (const e of exceptions) e.message = trimTrailingBlank(e.message.split("\n")).join("\n");
  exceptions[exceptions.length - 1]!.frames = frames;
  return parsedFrom(exceptions);
}

/** A frame of the Go runtime itself (not the program, not the standard library's other packages). */
export function isGoRuntime(f: Frame): boolean {
  const fn = f.function ?? "";
  return (
    fn === "panic" ||
    fn.startsWith("runtime.") ||
    fn.startsWith("internal/runtime") ||
    fn.startsWith("runtime/") ||
    /\/src\/runtime\/[^/]+\.go$/.test(f.file) ||
    /\/src\/internal\/runtime\//.test(f.file)
  );
}
